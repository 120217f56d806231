//! Reference data seeded into every database (the 11 service districts of Liaocheng from the
//! city plan, the default recyclable catalogue with its first rate version, and a default
//! slot template), and demo accounts when `WUFEI_SEED_DEMO=1`. Seeding is idempotent: it
//! only adds what is missing and never overwrites what administrators changed.

use chrono::{TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set,
    TransactionTrait,
};
use uuid::Uuid;

use crate::{
    auth::{
        AdminScope, Role,
        users::{self, NewStaff},
    },
    entities::{
        category::{self, Unit},
        category_rate, district, mall_item, slot_template, user,
    },
    error::{Error, Result},
};

const DISTRICTS_CSV: &str = include_str!("reference/districts.csv");

/// A seeded recyclable category: code, name, unit, points per unit, service fee in fen per
/// unit, needs a van, guidance.
struct SeedCategory {
    code: &'static str,
    name: &'static str,
    unit: Unit,
    points: i32,
    fee_fen: i32,
    needs_van: bool,
    guidance: &'static str,
}

const CATEGORIES: &[SeedCategory] = &[
    SeedCategory {
        code: "paper",
        name: "纸类（纸箱纸盒、书报）",
        unit: Unit::Kg,
        points: 10,
        fee_fen: 30,
        needs_van: false,
        guidance: "压平捆扎，保持干燥，去除胶带和塑料膜。",
    },
    SeedCategory {
        code: "plastic",
        name: "塑料（饮料瓶、塑料容器）",
        unit: Unit::Kg,
        points: 15,
        fee_fen: 40,
        needs_van: false,
        guidance: "倒空冲洗，瓶子压扁，去除残留物。",
    },
    SeedCategory {
        code: "metal",
        name: "金属（易拉罐、废旧金属）",
        unit: Unit::Kg,
        points: 20,
        fee_fen: 40,
        needs_van: false,
        guidance: "易拉罐压扁；尖锐金属包好边角。",
    },
    SeedCategory {
        code: "glass",
        name: "玻璃（玻璃瓶罐）",
        unit: Unit::Kg,
        points: 4,
        fee_fen: 20,
        needs_van: false,
        guidance: "清空瓶罐；碎玻璃请包好并注明。",
    },
    SeedCategory {
        code: "textile",
        name: "废旧衣物",
        unit: Unit::Kg,
        points: 6,
        fee_fen: 30,
        needs_van: false,
        guidance: "洗净叠好装袋，鞋子成双捆扎。",
    },
    SeedCategory {
        code: "e_waste",
        name: "废弃电器电子产品（四机一脑）",
        unit: Unit::Piece,
        points: 50,
        fee_fen: 1000,
        needs_van: true,
        guidance: "电视机、电冰箱、洗衣机、空调、电脑；请勿自行拆解。",
    },
    SeedCategory {
        code: "furniture",
        name: "大件垃圾（废旧家具）",
        unit: Unit::Piece,
        points: 30,
        fee_fen: 1500,
        needs_van: true,
        guidance: "沙发、床垫、柜子等；请预约时注明件数和尺寸。",
    },
    SeedCategory {
        code: "kitchen_waste",
        name: "厨余垃圾",
        unit: Unit::Kg,
        points: 2,
        fee_fen: 0,
        needs_van: false,
        guidance: "沥干水分，去除塑料袋；投放至智能厨余称重设备。",
    },
];

/// The date the seeded rate table takes effect (the plan's base year begins 2021; rates
/// start with the system).
fn seed_rates_effective() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now)
}

/// Seeds the reference data that is missing.
#[tracing::instrument(skip_all)]
pub async fn reference(db: &DatabaseConnection) -> Result<()> {
    let txn = db.begin().await?;
    for (i, line) in DISTRICTS_CSV.lines().skip(1).enumerate() {
        let cols: Vec<&str> = line.split(',').collect();
        let [code, name, kind, note] = cols.as_slice() else {
            return Err(Error::Internal(anyhow::anyhow!(
                "bad districts.csv line {line:?}"
            )));
        };
        district::Entity::insert(district::ActiveModel {
            code: Set(code.to_string()),
            name: Set(name.to_string()),
            kind: Set(kind.to_string()),
            note: Set(note.to_string()),
            sort_order: Set(i as i32),
            dispatch_mode: Set(district::DispatchMode::Assign),
            served: Set(true),
        })
        .on_conflict_do_nothing_on([district::Column::Code])
        .exec(&txn)
        .await?;
    }
    if category::Entity::find().count(&txn).await? == 0 {
        let now = Utc::now();
        for (i, c) in CATEGORIES.iter().enumerate() {
            let id = Uuid::now_v7();
            category::ActiveModel {
                id: Set(id),
                code: Set(c.code.into()),
                name: Set(c.name.into()),
                unit: Set(c.unit),
                needs_van: Set(c.needs_van),
                guidance: Set(c.guidance.into()),
                active: Set(true),
                sort_order: Set(i as i32),
                created_at: Set(now),
                device_daily_cap: Set(crate::catalog::admin::default_device_daily_cap(
                    c.unit, c.code,
                )),
            }
            .insert(&txn)
            .await?;
            category_rate::ActiveModel {
                id: Set(Uuid::now_v7()),
                category_id: Set(id),
                points_per_unit: Set(c.points),
                service_fee_fen_per_unit: Set(c.fee_fen),
                effective_from: Set(seed_rates_effective()),
                created_by: Set(None),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
    }
    if slot_template::Entity::find().count(&txn).await? == 0 {
        slot_template::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set("默认上门时段".into()),
            district_code: Set(None),
            community_id: Set(None),
            windows: Set(serde_json::json!([
                { "start": "09:00", "end": "11:00", "capacity": 20 },
                { "start": "14:00", "end": "16:00", "capacity": 20 },
                { "start": "16:00", "end": "18:00", "capacity": 10 }
            ])
            .to_string()),
            active: Set(true),
            created_at: Set(Utc::now()),
            weekdays: Set("[1,2,3,4,5,6,7]".into()),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The demo accounts `WUFEI_SEED_DEMO=1` creates (phone, role, password).
pub const DEMO_ACCOUNTS: &[(&str, Role, &str)] = &[
    ("13800000000", Role::Admin, "wufei-demo-admin"),
    ("13800000001", Role::Recycler, "wufei-demo-pass"),
    ("13800000002", Role::Resident, "wufei-demo-pass"),
    ("13800000003", Role::StationManager, "wufei-demo-pass"),
    ("13800000004", Role::Merchant, "wufei-demo-pass"),
];

/// Seeds demo accounts into a database that has no users yet.
#[tracing::instrument(skip_all)]
pub async fn demo(db: &impl ConnectionTrait) -> Result<()> {
    if user::Entity::find().count(db).await? > 0 {
        tracing::info!("users exist; demo data not seeded");
        return Ok(());
    }
    for (phone, role, password) in DEMO_ACCOUNTS {
        users::create_staff(
            db,
            NewStaff {
                phone: (*phone).into(),
                password: (*password).into(),
                role: *role,
                admin_scope: (*role == Role::Admin).then_some(AdminScope::SuperAdmin),
                district_code: (*role == Role::StationManager).then(|| "371502".to_string()),
                nickname: format!("演示{}", role.as_str()),
            },
        )
        .await?;
    }
    tracing::info!(accounts = DEMO_ACCOUNTS.len(), "demo accounts seeded");
    demo_mall(db).await
}

/// A demo mall item: name, kind, points, stock, per-person limit, district, station,
/// description.
struct SeedItem {
    name: &'static str,
    kind: mall_item::Kind,
    points: i64,
    stock: i32,
    limit: Option<i32>,
    district: Option<&'static str>,
    station: &'static str,
    description: &'static str,
}

const DEMO_ITEMS: &[SeedItem] = &[
    SeedItem {
        name: "环保帆布袋",
        kind: mall_item::Kind::Goods,
        points: 200,
        stock: 100,
        limit: Some(2),
        district: Some("371502"),
        station: "东昌府区古楼街道再生资源回收站",
        description: "可重复使用的购物袋，减少一次性塑料袋。",
    },
    SeedItem {
        name: "厨余垃圾沥水桶",
        kind: mall_item::Kind::Goods,
        points: 500,
        stock: 50,
        limit: Some(1),
        district: Some("371502"),
        station: "东昌府区古楼街道再生资源回收站",
        description: "带滤网的厨余分类桶，沥干水分再投放。",
    },
    SeedItem {
        name: "再生纸笔记本",
        kind: mall_item::Kind::Goods,
        points: 150,
        stock: 200,
        limit: None,
        district: Some("371502"),
        station: "东昌府区新区街道回收服务站",
        description: "百分之百再生纸制作。",
    },
    SeedItem {
        name: "公交出行优惠券（5元）",
        kind: mall_item::Kind::Coupon,
        points: 300,
        stock: 500,
        limit: Some(5),
        district: None,
        station: "",
        description: "全市公交通用，凭取货码在乘车码页面兑换。",
    },
];

/// Seeds the demo mall items into a mall that has none.
async fn demo_mall(db: &impl ConnectionTrait) -> Result<()> {
    if mall_item::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let now = Utc::now();
    for i in DEMO_ITEMS {
        mall_item::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(i.name.into()),
            kind: Set(i.kind),
            description: Set(i.description.into()),
            points: Set(i.points),
            stock: Set(i.stock),
            per_person_limit: Set(i.limit),
            sale_starts_at: Set(None),
            sale_ends_at: Set(None),
            district_code: Set(i.district.map(str::to_string)),
            station: Set(i.station.into()),
            image_upload_id: Set(None),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    tracing::info!(items = DEMO_ITEMS.len(), "demo mall items seeded");
    Ok(())
}
