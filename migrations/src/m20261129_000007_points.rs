//! Green points: the double-entry ledger, point lots, the recycling ledger, the points mall
//! and smart devices.
//!
//! What the database itself guarantees here:
//! - **Every transaction sums to zero**: a posting moves a positive `amount` from one account
//!   to another (`debit ≠ credit`), so no sequence of postings can create or destroy points.
//! - **Balances follow the postings**: a trigger applies every posting to both accounts'
//!   `balance` in the same statement; code never writes a balance.
//! - **Floors hold**: `balance >= min_balance` where the account has one (residents,
//!   recyclers, funding accounts with a budget, sinks), so an overdraft aborts the statement.
//! - **Immutability**: postings, transactions and lot draws refuse UPDATE and DELETE.
//! - **Credit once**: `ledger_transactions.source_key` is unique (pickup, device event,
//!   redemption, expiry of a lot, adjustment …); a transaction is reversed at most once.
//! - **Lots never overdraw**: `0 <= remaining <= points`, kept by a trigger on `lot_draws`.
//! - **Stock and limits**: `mall_items.stock >= 0`, a per-person counter never above its
//!   limit, pickup codes unique, one device event id once per device.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(LedgerAccounts::Table)
                .col(pk_uuid(LedgerAccounts::Id))
                // `resident:<user>`, `recycler:<user>`, `programme:<district>` …: one account
                // per key, created on first use.
                .col(string_len(LedgerAccounts::Key, 96).unique_key())
                .col(string_len(LedgerAccounts::Kind, 24).check(
                    Expr::col(LedgerAccounts::Kind).is_in([
                        "resident",
                        "recycler",
                        "appropriation",
                        "programme",
                        "fee_payable",
                        "redemption_sink",
                        "expiry_sink",
                    ]),
                ))
                .col(
                    string_len(LedgerAccounts::Unit, 8)
                        .check(Expr::col(LedgerAccounts::Unit).is_in(["points", "fen"])),
                )
                .col(uuid_null(LedgerAccounts::UserId))
                .col(string_len_null(LedgerAccounts::DistrictCode, 12))
                .col(big_integer(LedgerAccounts::Balance).default(0))
                .col(big_integer_null(LedgerAccounts::MinBalance))
                .col(timestamp_with_time_zone(LedgerAccounts::CreatedAt))
                .check((
                    "ck_ledger_accounts_floor",
                    Expr::col(LedgerAccounts::MinBalance)
                        .is_null()
                        .or(Expr::col(LedgerAccounts::Balance)
                            .gte(Expr::col(LedgerAccounts::MinBalance))),
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(LedgerAccounts::Table, LedgerAccounts::UserId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(LedgerAccounts::Table, LedgerAccounts::DistrictCode)
                        .to(Districts::Table, Districts::Code),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LedgerTransactions::Table)
                .col(pk_uuid(LedgerTransactions::Id))
                .col(string_len(LedgerTransactions::SourceKey, 128).unique_key())
                .col(string_len(LedgerTransactions::Kind, 24).check(
                    Expr::col(LedgerTransactions::Kind).is_in([
                        "settlement",
                        "device_deposit",
                        "redemption",
                        "refund",
                        "expiry",
                        "adjustment",
                        "reversal",
                        "budget",
                    ]),
                ))
                .col(text(LedgerTransactions::Memo).default(""))
                .col(uuid_null(LedgerTransactions::ReversesId).unique_key())
                .col(uuid_null(LedgerTransactions::ActorId))
                .col(timestamp_with_time_zone(LedgerTransactions::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(LedgerTransactions::Table, LedgerTransactions::ReversesId)
                        .to(LedgerTransactions::Table, LedgerTransactions::Id),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LedgerPostings::Table)
                .col(pk_uuid(LedgerPostings::Id))
                .col(uuid(LedgerPostings::TransactionId))
                .col(uuid(LedgerPostings::DebitAccountId))
                .col(uuid(LedgerPostings::CreditAccountId))
                .col(big_integer(LedgerPostings::Amount))
                .col(timestamp_with_time_zone(LedgerPostings::CreatedAt))
                .check((
                    "ck_ledger_postings_amount",
                    Expr::col(LedgerPostings::Amount).gt(0),
                ))
                .check((
                    "ck_ledger_postings_two_accounts",
                    Expr::col(LedgerPostings::DebitAccountId)
                        .ne(Expr::col(LedgerPostings::CreditAccountId)),
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(LedgerPostings::Table, LedgerPostings::TransactionId)
                        .to(LedgerTransactions::Table, LedgerTransactions::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(LedgerPostings::Table, LedgerPostings::DebitAccountId)
                        .to(LedgerAccounts::Table, LedgerAccounts::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(LedgerPostings::Table, LedgerPostings::CreditAccountId)
                        .to(LedgerAccounts::Table, LedgerAccounts::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_ledger_postings_debit", LedgerPostings::DebitAccountId),
            (
                "idx_ledger_postings_credit",
                LedgerPostings::CreditAccountId,
            ),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(LedgerPostings::Table)
                    .col(col)
                    .col(LedgerPostings::TransactionId)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_ledger_postings_transaction")
                .table(LedgerPostings::Table)
                .col(LedgerPostings::TransactionId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PointLots::Table)
                .col(pk_uuid(PointLots::Id))
                .col(uuid(PointLots::AccountId))
                .col(uuid(PointLots::TransactionId))
                .col(string_len(PointLots::DistrictCode, 12))
                .col(big_integer(PointLots::Points))
                .col(big_integer(PointLots::Remaining))
                .col(timestamp_with_time_zone(PointLots::EarnedAt))
                .col(timestamp_with_time_zone(PointLots::ExpiresAt))
                .check(("ck_point_lots_points", Expr::col(PointLots::Points).gt(0)))
                .check((
                    "ck_point_lots_remaining",
                    Expr::col(PointLots::Remaining)
                        .gte(0)
                        .and(Expr::col(PointLots::Remaining).lte(Expr::col(PointLots::Points))),
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(PointLots::Table, PointLots::AccountId)
                        .to(LedgerAccounts::Table, LedgerAccounts::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(PointLots::Table, PointLots::TransactionId)
                        .to(LedgerTransactions::Table, LedgerTransactions::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_point_lots_account_expiry")
                .table(PointLots::Table)
                .col(PointLots::AccountId)
                .col(PointLots::ExpiresAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_point_lots_expiry")
                .table(PointLots::Table)
                .col(PointLots::ExpiresAt)
                .to_owned(),
        )
        .await?;

        // A draw takes points out of a lot (positive) or puts them back (negative, a refund
        // or a reversal of the draw's transaction).
        m.create_table(
            Table::create()
                .table(LotDraws::Table)
                .col(pk_uuid(LotDraws::Id))
                .col(uuid(LotDraws::LotId))
                .col(uuid(LotDraws::TransactionId))
                .col(big_integer(LotDraws::Points))
                .col(timestamp_with_time_zone(LotDraws::CreatedAt))
                .check(("ck_lot_draws_points", Expr::col(LotDraws::Points).ne(0)))
                .foreign_key(
                    ForeignKey::create()
                        .from(LotDraws::Table, LotDraws::LotId)
                        .to(PointLots::Table, PointLots::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(LotDraws::Table, LotDraws::TransactionId)
                        .to(LedgerTransactions::Table, LedgerTransactions::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_lot_draws_transaction")
                .table(LotDraws::Table)
                .col(LotDraws::TransactionId)
                .to_owned(),
        )
        .await?;

        // 回收数据电子统计台账: one row per category of a settled pickup or device deposit;
        // corrections are further rows (negative amounts), never edits.
        m.create_table(
            Table::create()
                .table(RecyclingRecords::Table)
                .col(pk_uuid(RecyclingRecords::Id))
                .col(string_len(RecyclingRecords::SourceKey, 160).unique_key())
                .col(uuid(RecyclingRecords::TransactionId))
                .col(uuid_null(RecyclingRecords::PickupId))
                .col(uuid_null(RecyclingRecords::DeviceEventId))
                .col(uuid(RecyclingRecords::CategoryId))
                .col(big_integer(RecyclingRecords::WeightG).default(0))
                .col(big_integer(RecyclingRecords::Count).default(0))
                .col(big_integer(RecyclingRecords::Points).default(0))
                .col(big_integer(RecyclingRecords::FeeFen).default(0))
                .col(string_len(RecyclingRecords::DistrictCode, 12))
                .col(uuid_null(RecyclingRecords::CommunityId))
                .col(uuid_null(RecyclingRecords::RecyclerId))
                .col(string_len(RecyclingRecords::LocalDate, 10))
                .col(timestamp_with_time_zone(RecyclingRecords::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(RecyclingRecords::Table, RecyclingRecords::CategoryId)
                        .to(Categories::Table, Categories::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RecyclingRecords::Table, RecyclingRecords::DistrictCode)
                        .to(Districts::Table, Districts::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_recycling_records_district_date")
                .table(RecyclingRecords::Table)
                .col(RecyclingRecords::DistrictCode)
                .col(RecyclingRecords::LocalDate)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_recycling_records_recycler_date")
                .table(RecyclingRecords::Table)
                .col(RecyclingRecords::RecyclerId)
                .col(RecyclingRecords::LocalDate)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MallItems::Table)
                .col(pk_uuid(MallItems::Id))
                .col(string_len(MallItems::Name, 128))
                .col(
                    string_len(MallItems::Kind, 16)
                        .check(Expr::col(MallItems::Kind).is_in(["goods", "coupon"])),
                )
                .col(text(MallItems::Description).default(""))
                .col(big_integer(MallItems::Points))
                .col(integer(MallItems::Stock))
                .col(integer_null(MallItems::PerPersonLimit))
                .col(timestamp_with_time_zone_null(MallItems::SaleStartsAt))
                .col(timestamp_with_time_zone_null(MallItems::SaleEndsAt))
                .col(string_len_null(MallItems::DistrictCode, 12))
                .col(text(MallItems::Station).default(""))
                .col(uuid_null(MallItems::ImageUploadId))
                .col(boolean(MallItems::Active).default(true))
                .col(timestamp_with_time_zone(MallItems::CreatedAt))
                .col(timestamp_with_time_zone(MallItems::UpdatedAt))
                .check(("ck_mall_items_points", Expr::col(MallItems::Points).gt(0)))
                .check(("ck_mall_items_stock", Expr::col(MallItems::Stock).gte(0)))
                .check((
                    "ck_mall_items_limit",
                    Expr::col(MallItems::PerPersonLimit)
                        .is_null()
                        .or(Expr::col(MallItems::PerPersonLimit).gt(0)),
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(MallItems::Table, MallItems::DistrictCode)
                        .to(Districts::Table, Districts::Code),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MallRedemptions::Table)
                .col(pk_uuid(MallRedemptions::Id))
                .col(uuid(MallRedemptions::UserId))
                .col(uuid(MallRedemptions::ItemId))
                .col(integer(MallRedemptions::Quantity))
                .col(big_integer(MallRedemptions::Points))
                .col(string_len(MallRedemptions::Status, 16).check(
                    Expr::col(MallRedemptions::Status).is_in([
                        "reserved",
                        "fulfilled",
                        "cancelled",
                    ]),
                ))
                .col(string_len(MallRedemptions::PickupCode, 16).unique_key())
                .col(uuid(MallRedemptions::TransactionId))
                .col(uuid_null(MallRedemptions::RefundTransactionId))
                .col(timestamp_with_time_zone(MallRedemptions::CreatedAt))
                .col(timestamp_with_time_zone_null(MallRedemptions::FulfilledAt))
                .col(uuid_null(MallRedemptions::FulfilledBy))
                .col(timestamp_with_time_zone_null(MallRedemptions::CancelledAt))
                .check((
                    "ck_mall_redemptions_quantity",
                    Expr::col(MallRedemptions::Quantity).gt(0),
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(MallRedemptions::Table, MallRedemptions::UserId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(MallRedemptions::Table, MallRedemptions::ItemId)
                        .to(MallItems::Table, MallItems::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_mall_redemptions_user")
                .table(MallRedemptions::Table)
                .col(MallRedemptions::UserId)
                .col(MallRedemptions::Id)
                .to_owned(),
        )
        .await?;

        // How many of an item a person holds (reserved or fulfilled), raised only by a
        // conditional update that keeps it within the item's per-person limit.
        m.create_table(
            Table::create()
                .table(MallHoldings::Table)
                .col(uuid(MallHoldings::UserId))
                .col(uuid(MallHoldings::ItemId))
                .col(integer(MallHoldings::Quantity))
                .primary_key(
                    Index::create()
                        .col(MallHoldings::UserId)
                        .col(MallHoldings::ItemId),
                )
                .check((
                    "ck_mall_holdings_quantity",
                    Expr::col(MallHoldings::Quantity).gte(0),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Devices::Table)
                .col(pk_uuid(Devices::Id))
                .col(string_len(Devices::Kind, 24).check(
                    Expr::col(Devices::Kind).is_in(["recycling_bin", "kitchen_waste_scale"]),
                ))
                .col(string_len(Devices::Name, 128))
                .col(string_len(Devices::DistrictCode, 12))
                .col(text(Devices::Station).default(""))
                .col(string_len(Devices::Secret, 128))
                .col(boolean(Devices::Active).default(true))
                .col(timestamp_with_time_zone(Devices::CreatedAt))
                .col(timestamp_with_time_zone_null(Devices::LastSeenAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Devices::Table, Devices::DistrictCode)
                        .to(Districts::Table, Districts::Code),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(DeviceEvents::Table)
                .col(pk_uuid(DeviceEvents::Id))
                .col(uuid(DeviceEvents::DeviceId))
                .col(string_len(DeviceEvents::EventId, 64))
                .col(uuid(DeviceEvents::UserId))
                .col(uuid(DeviceEvents::CategoryId))
                .col(big_integer(DeviceEvents::WeightG))
                .col(big_integer(DeviceEvents::CreditedG))
                .col(big_integer(DeviceEvents::Points))
                .col(uuid_null(DeviceEvents::TransactionId))
                .col(text(DeviceEvents::Response))
                .col(timestamp_with_time_zone(DeviceEvents::CreatedAt))
                .index(
                    Index::create()
                        .name("ux_device_events_event")
                        .unique()
                        .col(DeviceEvents::DeviceId)
                        .col(DeviceEvents::EventId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(DeviceEvents::Table, DeviceEvents::DeviceId)
                        .to(Devices::Table, Devices::Id),
                )
                .to_owned(),
        )
        .await?;

        // Grams a resident has been credited for by devices per category per local day,
        // against the category's daily cap.
        m.create_table(
            Table::create()
                .table(DeviceDailyTotals::Table)
                .col(uuid(DeviceDailyTotals::UserId))
                .col(uuid(DeviceDailyTotals::CategoryId))
                .col(string_len(DeviceDailyTotals::LocalDate, 10))
                .col(big_integer(DeviceDailyTotals::WeightG))
                .primary_key(
                    Index::create()
                        .col(DeviceDailyTotals::UserId)
                        .col(DeviceDailyTotals::CategoryId)
                        .col(DeviceDailyTotals::LocalDate),
                )
                .check((
                    "ck_device_daily_totals_weight",
                    Expr::col(DeviceDailyTotals::WeightG).gte(0),
                ))
                .to_owned(),
        )
        .await?;

        // Per-category daily cap on device credits (grams, or pieces for piece categories).
        m.alter_table(
            Table::alter()
                .table(Categories::Table)
                .add_column(big_integer(Categories::DeviceDailyCap).default(20_000))
                .to_owned(),
        )
        .await?;

        let db = m.get_connection();
        match m.get_database_backend() {
            DatabaseBackend::Postgres => {
                for sql in POSTGRES_TRIGGERS {
                    db.execute_unprepared(sql).await?;
                }
            }
            _ => {
                for sql in SQLITE_TRIGGERS {
                    db.execute_unprepared(sql).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Categories::Table)
                .drop_column(Categories::DeviceDailyCap)
                .to_owned(),
        )
        .await?;
        for t in [
            DeviceDailyTotals::Table.into_iden(),
            DeviceEvents::Table.into_iden(),
            Devices::Table.into_iden(),
            MallHoldings::Table.into_iden(),
            MallRedemptions::Table.into_iden(),
            MallItems::Table.into_iden(),
            RecyclingRecords::Table.into_iden(),
            LotDraws::Table.into_iden(),
            PointLots::Table.into_iden(),
            LedgerPostings::Table.into_iden(),
            LedgerTransactions::Table.into_iden(),
            LedgerAccounts::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        if m.get_database_backend() == DatabaseBackend::Postgres {
            for f in [
                "wufei_apply_posting",
                "wufei_apply_lot_draw",
                "wufei_ledger_immutable",
            ] {
                m.get_connection()
                    .execute_unprepared(&format!("DROP FUNCTION IF EXISTS {f}() CASCADE"))
                    .await?;
            }
        }
        Ok(())
    }
}

/// PostgreSQL: balances follow postings, lots follow draws, history is immutable.
const POSTGRES_TRIGGERS: &[&str] = &[
    r#"CREATE FUNCTION wufei_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ledger_accounts SET balance = balance - NEW.amount WHERE id = NEW.debit_account_id;
  UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.credit_account_id;
  IF (SELECT count(DISTINCT unit) FROM ledger_accounts
      WHERE id IN (NEW.debit_account_id, NEW.credit_account_id)) <> 1 THEN
    RAISE EXCEPTION 'ledger posting between accounts of different units';
  END IF;
  RETURN NEW;
END $$"#,
    "CREATE TRIGGER trg_ledger_postings_apply AFTER INSERT ON ledger_postings \
     FOR EACH ROW EXECUTE FUNCTION wufei_apply_posting()",
    r#"CREATE FUNCTION wufei_apply_lot_draw() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE point_lots SET remaining = remaining - NEW.points WHERE id = NEW.lot_id;
  RETURN NEW;
END $$"#,
    "CREATE TRIGGER trg_lot_draws_apply AFTER INSERT ON lot_draws \
     FOR EACH ROW EXECUTE FUNCTION wufei_apply_lot_draw()",
    r#"CREATE FUNCTION wufei_ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger history is immutable: % on %', TG_OP, TG_TABLE_NAME;
END $$"#,
    "CREATE TRIGGER trg_ledger_postings_immutable BEFORE UPDATE OR DELETE ON ledger_postings \
     FOR EACH ROW EXECUTE FUNCTION wufei_ledger_immutable()",
    "CREATE TRIGGER trg_ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions \
     FOR EACH ROW EXECUTE FUNCTION wufei_ledger_immutable()",
    "CREATE TRIGGER trg_lot_draws_immutable BEFORE UPDATE OR DELETE ON lot_draws \
     FOR EACH ROW EXECUTE FUNCTION wufei_ledger_immutable()",
    "CREATE TRIGGER trg_recycling_records_immutable BEFORE UPDATE OR DELETE ON recycling_records \
     FOR EACH ROW EXECUTE FUNCTION wufei_ledger_immutable()",
];

/// SQLite: the same rules as triggers.
const SQLITE_TRIGGERS: &[&str] = &[
    "CREATE TRIGGER trg_ledger_postings_units BEFORE INSERT ON ledger_postings \
     WHEN (SELECT count(DISTINCT unit) FROM ledger_accounts \
           WHERE id IN (NEW.debit_account_id, NEW.credit_account_id)) <> 1 \
     BEGIN SELECT RAISE(ABORT, 'ledger posting between accounts of different units'); END",
    "CREATE TRIGGER trg_ledger_postings_apply AFTER INSERT ON ledger_postings BEGIN \
       UPDATE ledger_accounts SET balance = balance - NEW.amount WHERE id = NEW.debit_account_id; \
       UPDATE ledger_accounts SET balance = balance + NEW.amount WHERE id = NEW.credit_account_id; \
     END",
    "CREATE TRIGGER trg_lot_draws_apply AFTER INSERT ON lot_draws BEGIN \
       UPDATE point_lots SET remaining = remaining - NEW.points WHERE id = NEW.lot_id; \
     END",
    "CREATE TRIGGER trg_ledger_postings_no_update BEFORE UPDATE ON ledger_postings \
     BEGIN SELECT RAISE(ABORT, 'ledger history is immutable'); END",
    "CREATE TRIGGER trg_ledger_postings_no_delete BEFORE DELETE ON ledger_postings \
     BEGIN SELECT RAISE(ABORT, 'ledger history is immutable'); END",
    "CREATE TRIGGER trg_ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions \
     BEGIN SELECT RAISE(ABORT, 'ledger history is immutable'); END",
    "CREATE TRIGGER trg_ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions \
     BEGIN SELECT RAISE(ABORT, 'ledger history is immutable'); END",
    "CREATE TRIGGER trg_lot_draws_no_update BEFORE UPDATE ON lot_draws \
     BEGIN SELECT RAISE(ABORT, 'ledger history is immutable'); END",
    "CREATE TRIGGER trg_lot_draws_no_delete BEFORE DELETE ON lot_draws \
     BEGIN SELECT RAISE(ABORT, 'ledger history is immutable'); END",
    "CREATE TRIGGER trg_recycling_records_no_update BEFORE UPDATE ON recycling_records \
     BEGIN SELECT RAISE(ABORT, 'ledger history is immutable'); END",
    "CREATE TRIGGER trg_recycling_records_no_delete BEFORE DELETE ON recycling_records \
     BEGIN SELECT RAISE(ABORT, 'ledger history is immutable'); END",
];

#[derive(DeriveIden)]
enum LedgerAccounts {
    Table,
    Id,
    Key,
    Kind,
    Unit,
    UserId,
    DistrictCode,
    Balance,
    MinBalance,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerTransactions {
    Table,
    Id,
    SourceKey,
    Kind,
    Memo,
    ReversesId,
    ActorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerPostings {
    Table,
    Id,
    TransactionId,
    DebitAccountId,
    CreditAccountId,
    Amount,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PointLots {
    Table,
    Id,
    AccountId,
    TransactionId,
    DistrictCode,
    Points,
    Remaining,
    EarnedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum LotDraws {
    Table,
    Id,
    LotId,
    TransactionId,
    Points,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RecyclingRecords {
    Table,
    Id,
    SourceKey,
    TransactionId,
    PickupId,
    DeviceEventId,
    CategoryId,
    WeightG,
    Count,
    Points,
    FeeFen,
    DistrictCode,
    CommunityId,
    RecyclerId,
    LocalDate,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MallItems {
    Table,
    Id,
    Name,
    Kind,
    Description,
    Points,
    Stock,
    PerPersonLimit,
    SaleStartsAt,
    SaleEndsAt,
    DistrictCode,
    Station,
    ImageUploadId,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MallRedemptions {
    Table,
    Id,
    UserId,
    ItemId,
    Quantity,
    Points,
    Status,
    PickupCode,
    TransactionId,
    RefundTransactionId,
    CreatedAt,
    FulfilledAt,
    FulfilledBy,
    CancelledAt,
}

#[derive(DeriveIden)]
enum MallHoldings {
    Table,
    UserId,
    ItemId,
    Quantity,
}

#[derive(DeriveIden)]
enum Devices {
    Table,
    Id,
    Kind,
    Name,
    DistrictCode,
    Station,
    Secret,
    Active,
    CreatedAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum DeviceEvents {
    Table,
    Id,
    DeviceId,
    EventId,
    UserId,
    CategoryId,
    WeightG,
    CreditedG,
    Points,
    TransactionId,
    Response,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DeviceDailyTotals {
    Table,
    UserId,
    CategoryId,
    LocalDate,
    WeightG,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Districts {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    DeviceDailyCap,
}
