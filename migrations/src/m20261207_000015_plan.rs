//! The plan made public (信息公开): the plan's indicators with the values administrators
//! report year by year, and its tasks with their progress updates. The indicators and tasks
//! themselves are reference data from `domain/data/plan/`, seeded at start.
//!
//! What the database guarantees: one value per indicator and year; statuses and directions
//! are closed sets; a task's section is unique.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use PlanIndicators as I;
        m.create_table(
            Table::create()
                .table(I::Table)
                .col(string_len(I::Code, 64).primary_key())
                .col(string_len(I::Name, 128))
                .col(string_len(I::Unit, 16))
                .col(string_len_null(I::Direction, 16).check(
                    Expr::col(I::Direction).is_null().or(
                        Expr::col(I::Direction).is_in(["at_least", "at_most", "equal", "range"]),
                    ),
                ))
                .col(double_null(I::Target))
                .col(double_null(I::TargetLow))
                .col(double_null(I::TargetHigh))
                .col(integer_null(I::TargetYear))
                .col(double_null(I::Baseline))
                .col(integer_null(I::BaselineYear))
                .col(string_len(I::Scope, 64))
                .col(string_len(I::PlanSection, 32))
                .col(text_null(I::Quote))
                .col(text_null(I::Definition))
                .col(text_null(I::Note))
                .col(
                    string_len(I::MeasuredBy, 16)
                        .check(Expr::col(I::MeasuredBy).is_in(["reported", "wufei"])),
                )
                .col(integer(I::Position))
                .to_owned(),
        )
        .await?;

        use IndicatorValues as V;
        m.create_table(
            Table::create()
                .table(V::Table)
                .col(string_len(V::IndicatorCode, 64))
                .col(integer(V::Year))
                .col(double(V::Value))
                .col(string_len(V::Source, 256))
                .col(uuid_null(V::EvidenceId))
                .col(uuid(V::EnteredBy))
                .col(timestamp_with_time_zone(V::EnteredAt))
                .primary_key(Index::create().col(V::IndicatorCode).col(V::Year))
                .check((
                    "ck_indicator_values_year",
                    Expr::col(V::Year).between(2000, 2100),
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(V::Table, V::IndicatorCode)
                        .to(I::Table, I::Code),
                )
                .to_owned(),
        )
        .await?;

        use PlanTasks as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .col(integer(T::Id).primary_key())
                .col(string_len(T::Section, 32).unique_key())
                .col(string_len(T::TopSection, 16))
                .col(string_len(T::Title, 256))
                .col(text(T::Text))
                .col(text(T::LeadUnits))
                .col(text(T::ResponsibleUnits))
                .col(string_len_null(T::Deadline, 64))
                .col(date_null(T::DeadlineDate))
                .col(string_len(T::Status, 16).default("not_reported").check(
                    Expr::col(T::Status).is_in([
                        "not_reported",
                        "not_started",
                        "in_progress",
                        "completed",
                        "delayed",
                    ]),
                ))
                .col(timestamp_with_time_zone_null(T::UpdatedAt))
                .to_owned(),
        )
        .await?;

        use PlanTaskUpdates as U;
        m.create_table(
            Table::create()
                .table(U::Table)
                .col(pk_uuid(U::Id))
                .col(integer(U::TaskId))
                .col(string_len(U::Status, 16).check(Expr::col(U::Status).is_in([
                    "not_started",
                    "in_progress",
                    "completed",
                    "delayed",
                ])))
                .col(text(U::Text))
                .col(uuid_null(U::EvidenceId))
                .col(uuid(U::AuthorId))
                .col(timestamp_with_time_zone(U::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(U::Table, U::TaskId)
                        .to(T::Table, T::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_plan_task_updates_task")
                .table(U::Table)
                .col(U::TaskId)
                .col(U::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "plan_task_updates",
            "plan_tasks",
            "indicator_values",
            "plan_indicators",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum PlanIndicators {
    Table,
    Code,
    Name,
    Unit,
    Direction,
    Target,
    TargetLow,
    TargetHigh,
    TargetYear,
    Baseline,
    BaselineYear,
    Scope,
    PlanSection,
    Quote,
    Definition,
    Note,
    MeasuredBy,
    Position,
}

#[derive(DeriveIden)]
enum IndicatorValues {
    Table,
    IndicatorCode,
    Year,
    Value,
    Source,
    EvidenceId,
    EnteredBy,
    EnteredAt,
}

#[derive(DeriveIden)]
enum PlanTasks {
    Table,
    Id,
    Section,
    TopSection,
    Title,
    Text,
    LeadUnits,
    ResponsibleUnits,
    Deadline,
    DeadlineDate,
    Status,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlanTaskUpdates {
    Table,
    Id,
    TaskId,
    Status,
    Text,
    EvidenceId,
    AuthorId,
    CreatedAt,
}
