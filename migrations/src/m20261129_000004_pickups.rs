//! Door-to-door recycling: addresses, concrete pickup slots, pickups with their items and
//! timeline, recyclers with their service districts and per-slot load, and dispatch offers.
//! Capacity and "one recycler per pickup" are enforced here by checks, unique keys and the
//! conditional updates they make possible.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const PICKUP_STATES: [&str; 10] = [
    "pending_dispatch",
    "offered",
    "accepted",
    "en_route",
    "arrived",
    "completed",
    "settled",
    "cancelled",
    "no_show",
    "expired",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Addresses::Table)
                .col(pk_uuid(Addresses::Id))
                .col(uuid(Addresses::UserId))
                .col(string_len(Addresses::Label, 32))
                .col(string_len(Addresses::ContactName, 64))
                .col(string_len(Addresses::ContactPhone, 20))
                .col(string_len(Addresses::DistrictCode, 12))
                .col(string_len(Addresses::Community, 128))
                .col(uuid_null(Addresses::CommunityId))
                .col(string_len(Addresses::Detail, 256))
                .col(double(Addresses::Lat))
                .col(double(Addresses::Lng))
                .col(boolean(Addresses::Deleted).default(false))
                .col(timestamp_with_time_zone(Addresses::CreatedAt))
                .col(timestamp_with_time_zone(Addresses::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Addresses::Table, Addresses::DistrictCode)
                        .to(Districts::Table, Districts::Code),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_addresses_user")
                .table(Addresses::Table)
                .col(Addresses::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PickupSlots::Table)
                .col(pk_uuid(PickupSlots::Id))
                .col(string_len(PickupSlots::DistrictCode, 12))
                .col(uuid_null(PickupSlots::CommunityId))
                .col(string_len(PickupSlots::ScopeKey, 64))
                .col(string_len(PickupSlots::LocalDate, 10))
                .col(timestamp_with_time_zone(PickupSlots::StartsAt))
                .col(timestamp_with_time_zone(PickupSlots::EndsAt))
                .col(integer(PickupSlots::Capacity).check(Expr::col(PickupSlots::Capacity).gte(0)))
                .col(integer(PickupSlots::Booked).default(0))
                .col(
                    integer(PickupSlots::VanCapacity)
                        .check(Expr::col(PickupSlots::VanCapacity).gte(0)),
                )
                .col(integer(PickupSlots::VanBooked).default(0))
                .col(uuid_null(PickupSlots::TemplateId))
                .col(timestamp_with_time_zone(PickupSlots::CreatedAt))
                .check(
                    Expr::col(PickupSlots::Booked)
                        .gte(0)
                        .and(Expr::col(PickupSlots::Booked).lte(Expr::col(PickupSlots::Capacity))),
                )
                .check(Expr::col(PickupSlots::VanBooked).gte(0).and(
                    Expr::col(PickupSlots::VanBooked).lte(Expr::col(PickupSlots::VanCapacity)),
                ))
                .index(
                    Index::create()
                        .unique()
                        .name("uq_pickup_slots_scope_start")
                        .col(PickupSlots::ScopeKey)
                        .col(PickupSlots::StartsAt),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_pickup_slots_lookup")
                .table(PickupSlots::Table)
                .col(PickupSlots::ScopeKey)
                .col(PickupSlots::LocalDate)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Recyclers::Table)
                .col(uuid(Recyclers::UserId).primary_key())
                .col(string_len(Recyclers::Name, 64))
                .col(string_len(Recyclers::Phone, 20))
                .col(uuid_null(Recyclers::IdPhotoId))
                .col(
                    string_len(Recyclers::Vehicle, 16)
                        .check(Expr::col(Recyclers::Vehicle).is_in(["tricycle", "van"])),
                )
                .col(
                    string_len(Recyclers::Status, 16).check(Expr::col(Recyclers::Status).is_in([
                        "pending",
                        "approved",
                        "rejected",
                        "suspended",
                    ])),
                )
                .col(text_null(Recyclers::ReviewReason))
                .col(uuid_null(Recyclers::ReviewedBy))
                .col(timestamp_with_time_zone_null(Recyclers::ReviewedAt))
                .col(boolean(Recyclers::OnShift).default(false))
                .col(
                    integer(Recyclers::SlotCapacity)
                        .default(4)
                        .check(Expr::col(Recyclers::SlotCapacity).gt(0)),
                )
                .col(integer(Recyclers::RatingSum).default(0))
                .col(integer(Recyclers::RatingCount).default(0))
                .col(integer(Recyclers::Complaints).default(0))
                .col(timestamp_with_time_zone(Recyclers::CreatedAt))
                .col(timestamp_with_time_zone(Recyclers::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RecyclerDistricts::Table)
                .col(uuid(RecyclerDistricts::RecyclerId))
                .col(string_len(RecyclerDistricts::DistrictCode, 12))
                .primary_key(
                    Index::create()
                        .col(RecyclerDistricts::RecyclerId)
                        .col(RecyclerDistricts::DistrictCode),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RecyclerDistricts::Table, RecyclerDistricts::DistrictCode)
                        .to(Districts::Table, Districts::Code),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RecyclerSlotLoads::Table)
                .col(uuid(RecyclerSlotLoads::RecyclerId))
                .col(uuid(RecyclerSlotLoads::SlotId))
                .col(integer(RecyclerSlotLoads::Load).default(0))
                .col(integer(RecyclerSlotLoads::Capacity))
                .check(Expr::col(RecyclerSlotLoads::Load).gte(0).and(
                    Expr::col(RecyclerSlotLoads::Load).lte(Expr::col(RecyclerSlotLoads::Capacity)),
                ))
                .primary_key(
                    Index::create()
                        .col(RecyclerSlotLoads::RecyclerId)
                        .col(RecyclerSlotLoads::SlotId),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Pickups::Table)
                .col(pk_uuid(Pickups::Id))
                .col(uuid(Pickups::ResidentId))
                .col(uuid(Pickups::AddressId))
                .col(text(Pickups::AddressSnapshot))
                .col(string_len(Pickups::DistrictCode, 12))
                .col(uuid_null(Pickups::CommunityId))
                .col(double(Pickups::Lat))
                .col(double(Pickups::Lng))
                .col(uuid(Pickups::SlotId))
                .col(
                    string_len(Pickups::Status, 24)
                        .check(Expr::col(Pickups::Status).is_in(PICKUP_STATES)),
                )
                .col(uuid_null(Pickups::RecyclerId))
                .col(boolean(Pickups::NeedsVan).default(false))
                .col(text(Pickups::Note).default(""))
                .col(text(Pickups::PhotoIds).default("[]"))
                .col(text(Pickups::CompletionPhotoIds).default("[]"))
                .col(boolean(Pickups::ManualDispatch).default(false))
                .col(integer(Pickups::DispatchRound).default(0))
                .col(boolean(Pickups::LateCancellation).default(false))
                .col(small_integer_null(Pickups::Rating))
                .col(text_null(Pickups::RatingComment))
                .col(text_null(Pickups::Complaint))
                .col(text_null(Pickups::Dispute))
                .col(string_len_null(Pickups::DisputeState, 16))
                .col(timestamp_with_time_zone_null(Pickups::CompletedAt))
                .col(timestamp_with_time_zone(Pickups::CreatedAt))
                .col(timestamp_with_time_zone(Pickups::UpdatedAt))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "idx_pickups_resident",
                vec![Pickups::ResidentId, Pickups::CreatedAt],
            ),
            (
                "idx_pickups_recycler",
                vec![Pickups::RecyclerId, Pickups::SlotId],
            ),
            (
                "idx_pickups_status",
                vec![Pickups::Status, Pickups::DistrictCode],
            ),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(Pickups::Table);
            for c in cols {
                idx.col(c);
            }
            m.create_index(idx.to_owned()).await?;
        }

        m.create_table(
            Table::create()
                .table(PickupItems::Table)
                .col(pk_uuid(PickupItems::Id))
                .col(uuid(PickupItems::PickupId))
                .col(uuid(PickupItems::CategoryId))
                .col(integer_null(PickupItems::EstimatedWeightG))
                .col(integer_null(PickupItems::EstimatedCount))
                .col(integer_null(PickupItems::ActualWeightG))
                .col(integer_null(PickupItems::ActualCount))
                .foreign_key(
                    ForeignKey::create()
                        .from(PickupItems::Table, PickupItems::PickupId)
                        .to(Pickups::Table, Pickups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .index(
                    Index::create()
                        .unique()
                        .name("uq_pickup_items_category")
                        .col(PickupItems::PickupId)
                        .col(PickupItems::CategoryId),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PickupEvents::Table)
                .col(pk_uuid(PickupEvents::Id))
                .col(uuid(PickupEvents::PickupId))
                .col(string_len_null(PickupEvents::FromStatus, 24))
                .col(string_len(PickupEvents::ToStatus, 24))
                .col(uuid_null(PickupEvents::ActorId))
                .col(string_len(PickupEvents::ActorRole, 24))
                .col(text(PickupEvents::Reason).default(""))
                .col(timestamp_with_time_zone(PickupEvents::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PickupEvents::Table, PickupEvents::PickupId)
                        .to(Pickups::Table, Pickups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_pickup_events_pickup")
                .table(PickupEvents::Table)
                .col(PickupEvents::PickupId)
                .col(PickupEvents::CreatedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Offers::Table)
                .col(pk_uuid(Offers::Id))
                .col(uuid(Offers::PickupId))
                .col(uuid(Offers::RecyclerId))
                .col(integer(Offers::Round))
                .col(
                    string_len(Offers::Status, 16).check(Expr::col(Offers::Status).is_in([
                        "open",
                        "accepted",
                        "rejected",
                        "expired",
                        "withdrawn",
                    ])),
                )
                .col(text_null(Offers::Reason))
                .col(timestamp_with_time_zone(Offers::ExpiresAt))
                .col(timestamp_with_time_zone(Offers::CreatedAt))
                .col(timestamp_with_time_zone_null(Offers::RespondedAt))
                .index(
                    Index::create()
                        .unique()
                        .name("uq_offers_pickup_recycler")
                        .col(Offers::PickupId)
                        .col(Offers::RecyclerId),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_offers_recycler")
                .table(Offers::Table)
                .col(Offers::RecyclerId)
                .col(Offers::Status)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Districts {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Addresses {
    Table,
    Id,
    UserId,
    Label,
    ContactName,
    ContactPhone,
    DistrictCode,
    Community,
    CommunityId,
    Detail,
    Lat,
    Lng,
    Deleted,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PickupSlots {
    Table,
    Id,
    DistrictCode,
    CommunityId,
    ScopeKey,
    LocalDate,
    StartsAt,
    EndsAt,
    Capacity,
    Booked,
    VanCapacity,
    VanBooked,
    TemplateId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Recyclers {
    Table,
    UserId,
    Name,
    Phone,
    IdPhotoId,
    Vehicle,
    Status,
    ReviewReason,
    ReviewedBy,
    ReviewedAt,
    OnShift,
    SlotCapacity,
    RatingSum,
    RatingCount,
    Complaints,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RecyclerDistricts {
    Table,
    RecyclerId,
    DistrictCode,
}

#[derive(DeriveIden)]
enum RecyclerSlotLoads {
    Table,
    RecyclerId,
    SlotId,
    Load,
    Capacity,
}

#[derive(DeriveIden, Clone, Copy)]
enum Pickups {
    Table,
    Id,
    ResidentId,
    AddressId,
    AddressSnapshot,
    DistrictCode,
    CommunityId,
    Lat,
    Lng,
    SlotId,
    Status,
    RecyclerId,
    NeedsVan,
    Note,
    PhotoIds,
    CompletionPhotoIds,
    ManualDispatch,
    DispatchRound,
    LateCancellation,
    Rating,
    RatingComment,
    Complaint,
    Dispute,
    DisputeState,
    CompletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PickupItems {
    Table,
    Id,
    PickupId,
    CategoryId,
    EstimatedWeightG,
    EstimatedCount,
    ActualWeightG,
    ActualCount,
}

#[derive(DeriveIden)]
enum PickupEvents {
    Table,
    Id,
    PickupId,
    FromStatus,
    ToStatus,
    ActorId,
    ActorRole,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    Id,
    PickupId,
    RecyclerId,
    Round,
    Status,
    Reason,
    ExpiresAt,
    CreatedAt,
    RespondedAt,
}
