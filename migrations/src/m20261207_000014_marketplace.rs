//! The recycled construction-material marketplace (建筑垃圾再生产品供求): merchants and their
//! applications, product types (seeded), listings with their certificates, demands and the
//! matches between them, inquiries with their messages and quotes, deals, favourites and
//! reports.
//!
//! What the database itself guarantees here:
//! - **One credit code, one merchant**: `merchants.credit_code` and `merchants.user_id` are
//!   unique; at most one pending application per account and per credit code.
//! - **Stock never goes negative**: `market_listings.stock >= 0`, so two accepts racing for
//!   the last tonnes cannot both take it (the accept is a conditional update besides).
//! - **A quote makes at most one deal**: `market_deals.quote_id` is unique.
//! - **A match is announced once per pair**: `(demand_id, listing_id)` is the key of
//!   `market_matches`.
//! - **Statuses are closed sets**, prices and quantities positive, star levels 1–3.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Product types seeded with the schema: code, name, units, standards.
const PRODUCT_TYPES: &[(&str, &str, &str, &str)] = &[
    (
        "recycled_coarse_aggregate",
        "再生粗骨料",
        r#"["t","m3"]"#,
        r#"["GB/T 25177"]"#,
    ),
    (
        "recycled_fine_aggregate",
        "再生细骨料",
        r#"["t","m3"]"#,
        r#"["GB/T 25176"]"#,
    ),
    (
        "recycled_brick",
        "再生砖",
        r#"["piece","thousand_pieces","m3"]"#,
        r#"["JC/T 2533"]"#,
    ),
    (
        "permeable_brick",
        "透水砖",
        r#"["m2","piece"]"#,
        r#"["GB/T 25993"]"#,
    ),
    (
        "road_base_mixture",
        "再生路基材料",
        r#"["t","m3"]"#,
        r#"["JTG/T F20"]"#,
    ),
    (
        "recycled_concrete_block",
        "再生混凝土砌块",
        r#"["piece","m3"]"#,
        r#"["GB/T 8239"]"#,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        merchants(m).await?;
        product_types(m).await?;
        listings(m).await?;
        demands(m).await?;
        inquiries(m).await?;
        deals(m).await?;
        extras(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "market_reports",
            "market_favourites",
            "market_deals",
            "market_quotes",
            "market_messages",
            "market_inquiries",
            "market_matches",
            "market_demands",
            "market_certificates",
            "market_listings",
            "market_product_types",
            "merchants",
            "merchant_applications",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: &[&str],
) -> Result<(), DbErr> {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(Alias::new(*c));
    }
    m.create_index(idx.to_owned()).await
}

async fn merchants(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use MerchantApplications as A;
    m.create_table(
        Table::create()
            .table(A::Table)
            .col(pk_uuid(A::Id))
            .col(uuid(A::UserId))
            .col(string_len(A::CompanyName, 128))
            .col(string_len(A::CreditCode, 18))
            .col(string_len(A::ContactName, 64))
            .col(string_len(A::ContactPhone, 16))
            .col(string_len(A::DistrictCode, 12))
            .col(string_len(A::Address, 256))
            .col(uuid(A::LicenceId))
            .col(
                string_len(A::Status, 16)
                    .check(Expr::col(A::Status).is_in(["pending", "approved", "rejected"])),
            )
            .col(text_null(A::Reason))
            .col(uuid_null(A::ReviewedBy))
            .col(timestamp_with_time_zone_null(A::ReviewedAt))
            .col(timestamp_with_time_zone(A::CreatedAt))
            .foreign_key(&mut fk((A::Table, A::UserId), (Users::Table, Users::Id)))
            .foreign_key(&mut fk(
                (A::Table, A::DistrictCode),
                (Districts::Table, Districts::Code),
            ))
            .to_owned(),
    )
    .await?;
    let db = m.get_connection();
    db.execute_unprepared(
        "CREATE UNIQUE INDEX uq_merchant_applications_pending_user \
         ON merchant_applications (user_id) WHERE status = 'pending'",
    )
    .await?;
    db.execute_unprepared(
        "CREATE UNIQUE INDEX uq_merchant_applications_pending_code \
         ON merchant_applications (credit_code) WHERE status = 'pending'",
    )
    .await?;
    index(
        m,
        "idx_merchant_applications_district",
        A::Table,
        &["district_code", "status"],
    )
    .await?;

    use Merchants as M;
    m.create_table(
        Table::create()
            .table(M::Table)
            .col(pk_uuid(M::Id))
            .col(uuid(M::UserId).unique_key())
            .col(string_len(M::CompanyName, 128))
            .col(string_len(M::CreditCode, 18).unique_key())
            .col(string_len(M::ContactName, 64))
            .col(string_len(M::ContactPhone, 16))
            .col(string_len(M::DistrictCode, 12))
            .col(string_len(M::Address, 256))
            .col(uuid(M::ApplicationId))
            .col(timestamp_with_time_zone(M::VerifiedAt))
            .foreign_key(&mut fk((M::Table, M::UserId), (Users::Table, Users::Id)))
            .foreign_key(&mut fk((M::Table, M::ApplicationId), (A::Table, A::Id)))
            .to_owned(),
    )
    .await
}

async fn product_types(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use MarketProductTypes as P;
    m.create_table(
        Table::create()
            .table(P::Table)
            .col(string_len(P::Code, 40).primary_key())
            .col(string_len(P::Name, 64))
            .col(text(P::Units))
            .col(text(P::Standards))
            .col(integer(P::Position).default(0))
            .col(timestamp_with_time_zone(P::CreatedAt))
            .to_owned(),
    )
    .await?;
    let now = chrono::Utc::now();
    let mut insert = Query::insert();
    insert.into_table(P::Table).columns([
        P::Code,
        P::Name,
        P::Units,
        P::Standards,
        P::Position,
        P::CreatedAt,
    ]);
    for (i, (code, name, units, standards)) in PRODUCT_TYPES.iter().enumerate() {
        insert.values_panic([
            (*code).into(),
            (*name).into(),
            (*units).into(),
            (*standards).into(),
            <i32 as std::convert::TryFrom<usize>>::try_from(i)
                .unwrap_or_default()
                .into(),
            now.into(),
        ]);
    }
    m.exec_stmt(insert.to_owned()).await
}

async fn listings(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use MarketListings as L;
    m.create_table(
        Table::create()
            .table(L::Table)
            .col(pk_uuid(L::Id))
            .col(uuid(L::MerchantId))
            .col(string_len(L::ProductType, 40))
            .col(string_len(L::Title, 64))
            .col(text(L::Description).default(""))
            .col(string_len(L::Spec, 128).default(""))
            .col(string_len(L::Standard, 64).default(""))
            .col(string_len(L::Unit, 24))
            .col(big_integer(L::PriceFen))
            .col(big_integer(L::Stock))
            .col(big_integer(L::MinOrder).default(1))
            .col(double(L::Lat))
            .col(double(L::Lng))
            .col(string_len(L::Address, 256))
            .col(string_len(L::DistrictCode, 12))
            .col(integer(L::DeliveryRadiusKm))
            .col(text(L::PhotoIds).default("[]"))
            .col(string_len(L::Status, 16).check(Expr::col(L::Status).is_in([
                "draft",
                "pending_review",
                "published",
                "withdrawn",
                "rejected",
            ])))
            .col(text_null(L::Reason))
            .col(boolean(L::TakenDown).default(false))
            .col(boolean(L::Certified).default(false))
            .col(boolean(L::ProcurementReady).default(false))
            .col(big_integer(L::Version).default(1))
            .col(timestamp_with_time_zone(L::CreatedAt))
            .col(timestamp_with_time_zone(L::UpdatedAt))
            .col(timestamp_with_time_zone_null(L::PublishedAt))
            .check(("ck_market_listings_price", Expr::col(L::PriceFen).gt(0)))
            .check(("ck_market_listings_stock", Expr::col(L::Stock).gte(0)))
            .check(("ck_market_listings_min_order", Expr::col(L::MinOrder).gt(0)))
            .check((
                "ck_market_listings_radius",
                Expr::col(L::DeliveryRadiusKm).between(0, 500),
            ))
            .foreign_key(&mut fk(
                (L::Table, L::MerchantId),
                (Merchants::Table, Merchants::Id),
            ))
            .foreign_key(&mut fk(
                (L::Table, L::ProductType),
                (MarketProductTypes::Table, MarketProductTypes::Code),
            ))
            .foreign_key(&mut fk(
                (L::Table, L::DistrictCode),
                (Districts::Table, Districts::Code),
            ))
            .to_owned(),
    )
    .await?;
    index(
        m,
        "idx_market_listings_merchant",
        L::Table,
        &["merchant_id", "id"],
    )
    .await?;
    index(m, "idx_market_listings_status", L::Table, &["status", "id"]).await?;
    index(
        m,
        "idx_market_listings_type",
        L::Table,
        &["product_type", "status"],
    )
    .await?;

    use MarketCertificates as C;
    m.create_table(
        Table::create()
            .table(C::Table)
            .col(pk_uuid(C::Id))
            .col(uuid(C::ListingId))
            .col(string_len(C::Kind, 32).check(Expr::col(C::Kind).is_in([
                "green_building_material",
                "test_report",
                "promotion_catalogue",
            ])))
            .col(integer_null(C::StarLevel))
            .col(string_len(C::Number, 64))
            .col(string_len(C::Issuer, 128))
            .col(date(C::IssuedOn))
            .col(date(C::ExpiresOn))
            .col(uuid(C::UploadId))
            .col(timestamp_with_time_zone_null(C::Reminded30At))
            .col(timestamp_with_time_zone_null(C::Reminded7At))
            .col(timestamp_with_time_zone(C::CreatedAt))
            .check((
                "ck_market_certificates_star",
                Expr::col(C::StarLevel)
                    .is_null()
                    .or(Expr::col(C::StarLevel).between(1, 3)),
            ))
            .check((
                "ck_market_certificates_dates",
                Expr::col(C::ExpiresOn).gt(Expr::col(C::IssuedOn)),
            ))
            .foreign_key(&mut fk((C::Table, C::ListingId), (L::Table, L::Id)))
            .to_owned(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("uq_market_certificates_number")
            .table(C::Table)
            .col(C::ListingId)
            .col(C::Kind)
            .col(C::Number)
            .unique()
            .to_owned(),
    )
    .await?;
    index(
        m,
        "idx_market_certificates_expiry",
        C::Table,
        &["expires_on"],
    )
    .await
}

async fn demands(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use MarketDemands as D;
    m.create_table(
        Table::create()
            .table(D::Table)
            .col(pk_uuid(D::Id))
            .col(uuid(D::MerchantId))
            .col(string_len(D::ProductType, 40))
            .col(string_len(D::Title, 64))
            .col(big_integer(D::Quantity))
            .col(string_len(D::Unit, 24))
            .col(big_integer_null(D::MaxPriceFen))
            .col(string_len(D::DistrictCode, 12))
            .col(double(D::Lat))
            .col(double(D::Lng))
            .col(string_len(D::Address, 256))
            .col(date(D::NeededBy))
            .col(string_len(D::Status, 16).check(Expr::col(D::Status).is_in([
                "open",
                "fulfilled",
                "closed",
                "expired",
            ])))
            .col(timestamp_with_time_zone(D::CreatedAt))
            .col(timestamp_with_time_zone(D::UpdatedAt))
            .check(("ck_market_demands_quantity", Expr::col(D::Quantity).gt(0)))
            .check((
                "ck_market_demands_price",
                Expr::col(D::MaxPriceFen)
                    .is_null()
                    .or(Expr::col(D::MaxPriceFen).gt(0)),
            ))
            .foreign_key(&mut fk(
                (D::Table, D::MerchantId),
                (Merchants::Table, Merchants::Id),
            ))
            .foreign_key(&mut fk(
                (D::Table, D::ProductType),
                (MarketProductTypes::Table, MarketProductTypes::Code),
            ))
            .foreign_key(&mut fk(
                (D::Table, D::DistrictCode),
                (Districts::Table, Districts::Code),
            ))
            .to_owned(),
    )
    .await?;
    index(m, "idx_market_demands_status", D::Table, &["status", "id"]).await?;
    index(
        m,
        "idx_market_demands_merchant",
        D::Table,
        &["merchant_id", "id"],
    )
    .await?;

    use MarketMatches as X;
    m.create_table(
        Table::create()
            .table(X::Table)
            .col(uuid(X::DemandId))
            .col(uuid(X::ListingId))
            .col(timestamp_with_time_zone(X::CreatedAt))
            .primary_key(Index::create().col(X::DemandId).col(X::ListingId))
            .foreign_key(&mut fk((X::Table, X::DemandId), (D::Table, D::Id)))
            .foreign_key(&mut fk(
                (X::Table, X::ListingId),
                (MarketListings::Table, MarketListings::Id),
            ))
            .to_owned(),
    )
    .await
}

async fn inquiries(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use MarketInquiries as I;
    m.create_table(
        Table::create()
            .table(I::Table)
            .col(pk_uuid(I::Id))
            .col(uuid(I::ListingId))
            .col(uuid(I::BuyerId))
            .col(uuid(I::SellerId))
            .col(big_integer(I::Quantity))
            .col(text(I::Message))
            .col(double_null(I::SiteLat))
            .col(double_null(I::SiteLng))
            .col(string_len_null(I::SiteAddress, 256))
            .col(date_null(I::NeededBy))
            .col(
                string_len(I::Status, 16)
                    .check(Expr::col(I::Status).is_in(["open", "dealt", "closed"])),
            )
            .col(timestamp_with_time_zone(I::CreatedAt))
            .col(timestamp_with_time_zone(I::UpdatedAt))
            .check(("ck_market_inquiries_quantity", Expr::col(I::Quantity).gt(0)))
            .check((
                "ck_market_inquiries_parties",
                Expr::col(I::BuyerId).ne(Expr::col(I::SellerId)),
            ))
            .foreign_key(&mut fk(
                (I::Table, I::ListingId),
                (MarketListings::Table, MarketListings::Id),
            ))
            .foreign_key(&mut fk(
                (I::Table, I::BuyerId),
                (Merchants::Table, Merchants::Id),
            ))
            .foreign_key(&mut fk(
                (I::Table, I::SellerId),
                (Merchants::Table, Merchants::Id),
            ))
            .to_owned(),
    )
    .await?;
    index(
        m,
        "idx_market_inquiries_buyer",
        I::Table,
        &["buyer_id", "id"],
    )
    .await?;
    index(
        m,
        "idx_market_inquiries_seller",
        I::Table,
        &["seller_id", "id"],
    )
    .await?;

    use MarketMessages as G;
    m.create_table(
        Table::create()
            .table(G::Table)
            .col(pk_uuid(G::Id))
            .col(uuid(G::InquiryId))
            .col(uuid(G::AuthorId))
            .col(text(G::Body))
            .col(timestamp_with_time_zone(G::CreatedAt))
            .foreign_key(&mut fk((G::Table, G::InquiryId), (I::Table, I::Id)))
            .foreign_key(&mut fk(
                (G::Table, G::AuthorId),
                (Merchants::Table, Merchants::Id),
            ))
            .to_owned(),
    )
    .await?;
    index(
        m,
        "idx_market_messages_inquiry",
        G::Table,
        &["inquiry_id", "id"],
    )
    .await?;

    use MarketQuotes as Q;
    m.create_table(
        Table::create()
            .table(Q::Table)
            .col(pk_uuid(Q::Id))
            .col(uuid(Q::InquiryId))
            .col(big_integer(Q::PriceFen))
            .col(big_integer(Q::Quantity))
            .col(timestamp_with_time_zone(Q::ValidUntil))
            .col(text(Q::Note).default(""))
            .col(string_len(Q::Status, 16).check(Expr::col(Q::Status).is_in([
                "open",
                "accepted",
                "withdrawn",
            ])))
            .col(timestamp_with_time_zone(Q::CreatedAt))
            .check(("ck_market_quotes_price", Expr::col(Q::PriceFen).gt(0)))
            .check(("ck_market_quotes_quantity", Expr::col(Q::Quantity).gt(0)))
            .foreign_key(&mut fk((Q::Table, Q::InquiryId), (I::Table, I::Id)))
            .to_owned(),
    )
    .await?;
    index(
        m,
        "idx_market_quotes_inquiry",
        Q::Table,
        &["inquiry_id", "id"],
    )
    .await
}

async fn deals(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use MarketDeals as D;
    m.create_table(
        Table::create()
            .table(D::Table)
            .col(pk_uuid(D::Id))
            .col(uuid(D::QuoteId).unique_key())
            .col(uuid(D::InquiryId))
            .col(uuid(D::ListingId))
            .col(uuid(D::BuyerId))
            .col(uuid(D::SellerId))
            .col(string_len(D::ProductType, 40))
            .col(string_len(D::DistrictCode, 12))
            .col(string_len(D::Unit, 24))
            .col(big_integer(D::Quantity))
            .col(big_integer(D::PriceFen))
            .col(big_integer(D::AmountFen))
            .col(string_len(D::Status, 16).check(Expr::col(D::Status).is_in([
                "confirmed",
                "delivered",
                "completed",
                "cancelled",
            ])))
            .col(timestamp_with_time_zone(D::CreatedAt))
            .col(timestamp_with_time_zone_null(D::DeliveredAt))
            .col(timestamp_with_time_zone_null(D::CompletedAt))
            .col(timestamp_with_time_zone_null(D::CancelledAt))
            .col(uuid_null(D::CancelledBy))
            .check(("ck_market_deals_quantity", Expr::col(D::Quantity).gt(0)))
            .foreign_key(&mut fk(
                (D::Table, D::QuoteId),
                (MarketQuotes::Table, MarketQuotes::Id),
            ))
            .foreign_key(&mut fk(
                (D::Table, D::ListingId),
                (MarketListings::Table, MarketListings::Id),
            ))
            .foreign_key(&mut fk(
                (D::Table, D::BuyerId),
                (Merchants::Table, Merchants::Id),
            ))
            .foreign_key(&mut fk(
                (D::Table, D::SellerId),
                (Merchants::Table, Merchants::Id),
            ))
            .to_owned(),
    )
    .await?;
    index(m, "idx_market_deals_buyer", D::Table, &["buyer_id", "id"]).await?;
    index(m, "idx_market_deals_seller", D::Table, &["seller_id", "id"]).await?;
    index(
        m,
        "idx_market_deals_stats",
        D::Table,
        &["status", "completed_at"],
    )
    .await
}

async fn extras(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use MarketFavourites as F;
    m.create_table(
        Table::create()
            .table(F::Table)
            .col(uuid(F::UserId))
            .col(uuid(F::ListingId))
            .col(timestamp_with_time_zone(F::CreatedAt))
            .primary_key(Index::create().col(F::UserId).col(F::ListingId))
            .foreign_key(&mut fk((F::Table, F::UserId), (Users::Table, Users::Id)))
            .foreign_key(&mut fk(
                (F::Table, F::ListingId),
                (MarketListings::Table, MarketListings::Id),
            ))
            .to_owned(),
    )
    .await?;

    use MarketReports as R;
    m.create_table(
        Table::create()
            .table(R::Table)
            .col(pk_uuid(R::Id))
            .col(uuid(R::ListingId))
            .col(uuid(R::ReporterId))
            .col(string_len(R::Reason, 500))
            .col(string_len(R::Status, 16).check(Expr::col(R::Status).is_in([
                "open",
                "upheld",
                "dismissed",
            ])))
            .col(uuid_null(R::ResolvedBy))
            .col(timestamp_with_time_zone_null(R::ResolvedAt))
            .col(timestamp_with_time_zone(R::CreatedAt))
            .foreign_key(&mut fk(
                (R::Table, R::ListingId),
                (MarketListings::Table, MarketListings::Id),
            ))
            .foreign_key(&mut fk(
                (R::Table, R::ReporterId),
                (Users::Table, Users::Id),
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(
        Index::create()
            .name("uq_market_reports_reporter")
            .table(R::Table)
            .col(R::ListingId)
            .col(R::ReporterId)
            .unique()
            .to_owned(),
    )
    .await?;
    index(m, "idx_market_reports_status", R::Table, &["status", "id"]).await
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
enum MerchantApplications {
    Table,
    Id,
    UserId,
    CompanyName,
    CreditCode,
    ContactName,
    ContactPhone,
    DistrictCode,
    Address,
    LicenceId,
    Status,
    Reason,
    ReviewedBy,
    ReviewedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Merchants {
    Table,
    Id,
    UserId,
    CompanyName,
    CreditCode,
    ContactName,
    ContactPhone,
    DistrictCode,
    Address,
    ApplicationId,
    VerifiedAt,
}

#[derive(DeriveIden)]
enum MarketProductTypes {
    Table,
    Code,
    Name,
    Units,
    Standards,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MarketListings {
    Table,
    Id,
    MerchantId,
    ProductType,
    Title,
    Description,
    Spec,
    Standard,
    Unit,
    PriceFen,
    Stock,
    MinOrder,
    Lat,
    Lng,
    Address,
    DistrictCode,
    DeliveryRadiusKm,
    PhotoIds,
    Status,
    Reason,
    TakenDown,
    Certified,
    ProcurementReady,
    Version,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum MarketCertificates {
    Table,
    Id,
    ListingId,
    Kind,
    StarLevel,
    Number,
    Issuer,
    IssuedOn,
    ExpiresOn,
    UploadId,
    #[sea_orm(iden = "reminded_30_at")]
    Reminded30At,
    #[sea_orm(iden = "reminded_7_at")]
    Reminded7At,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MarketDemands {
    Table,
    Id,
    MerchantId,
    ProductType,
    Title,
    Quantity,
    Unit,
    MaxPriceFen,
    DistrictCode,
    Lat,
    Lng,
    Address,
    NeededBy,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MarketMatches {
    Table,
    DemandId,
    ListingId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MarketInquiries {
    Table,
    Id,
    ListingId,
    BuyerId,
    SellerId,
    Quantity,
    Message,
    SiteLat,
    SiteLng,
    SiteAddress,
    NeededBy,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MarketMessages {
    Table,
    Id,
    InquiryId,
    AuthorId,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MarketQuotes {
    Table,
    Id,
    InquiryId,
    PriceFen,
    Quantity,
    ValidUntil,
    Note,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MarketDeals {
    Table,
    Id,
    QuoteId,
    InquiryId,
    ListingId,
    BuyerId,
    SellerId,
    ProductType,
    DistrictCode,
    Unit,
    Quantity,
    PriceFen,
    AmountFen,
    Status,
    CreatedAt,
    DeliveredAt,
    CompletedAt,
    CancelledAt,
    CancelledBy,
}

#[derive(DeriveIden)]
enum MarketFavourites {
    Table,
    UserId,
    ListingId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MarketReports {
    Table,
    Id,
    ListingId,
    ReporterId,
    Reason,
    Status,
    ResolvedBy,
    ResolvedAt,
    CreatedAt,
}
