//! `/facilities` and `/facilities/{id}`: the facilities on the public map, by kind and
//! district; a facility's own page.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use wufei_domain::{
    Platform,
    disclosure::facilities::{self, FacilityFilter, FacilityView},
    entities::facility,
};

use super::{
    labels::{self, FACILITY_KINDS, figure},
    lists::{Choice, choices, district_choices, district_name, districts, parse_id},
    map::Map,
    render::{Ctx, Fault, Shell, page, query},
};

/// A facility as a list reads.
pub struct FacilityRow {
    /// Its page.
    pub href: String,
    /// Name.
    pub name: String,
    /// Kind name.
    pub kind: &'static str,
    /// District name.
    pub district: String,
    /// Address.
    pub address: String,
    /// Capacity, tonnes a day.
    pub capacity: Option<String>,
    /// Opening hours.
    pub opening_hours: String,
    /// Operator.
    pub operator: String,
}

impl FacilityRow {
    fn of(f: &FacilityView, districts: &[(String, String)]) -> Self {
        Self {
            href: format!("/facilities/{}", f.id),
            name: f.name.clone(),
            kind: labels::facility_kind(f.kind),
            district: district_name(districts, &f.district_code),
            address: f.address.clone(),
            capacity: f.capacity_t_per_day.map(|c| figure(c, 1)),
            opening_hours: f.opening_hours.clone(),
            operator: f.operator.clone(),
        }
    }
}

/// The query of the facilities page.
#[derive(Deserialize)]
struct FacilitiesQuery {
    kind: Option<String>,
    district_code: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/facilities.html")]
struct FacilitiesPage {
    shell: Shell,
    rows: Vec<FacilityRow>,
    map: String,
    kinds: Vec<Choice>,
    districts: Vec<Choice>,
}

/// `GET /facilities`: the facilities on a map and in a list, by kind and district.
pub async fn list(req: HttpRequest, platform: web::Data<Platform>) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let q: FacilitiesQuery = query(&req)?;
        let kind = match q.kind.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                FACILITY_KINDS
                    .into_iter()
                    .find(|k| k.as_str() == s)
                    .ok_or(Fault::BadRequest)?,
            ),
        };
        let district = q.district_code.filter(|d| !d.is_empty());
        let ds = districts(&platform).await?;
        let collection = facilities::map(
            &platform.db,
            &FacilityFilter {
                kind,
                district_code: district.clone(),
            },
        )
        .await?;
        let list: Vec<&FacilityView> = collection.features.iter().map(|f| &f.properties).collect();
        let map = Map::new(
            "设施分布图",
            list.iter().map(|f| {
                (
                    f.name.clone(),
                    format!("/facilities/{}", f.id),
                    f.lat,
                    f.lng,
                    f.kind.as_str(),
                )
            }),
            platform.settings.map_tile_url.as_deref(),
        );
        Ok(FacilitiesPage {
            shell: ctx.shell(
                "facilities",
                "设施地图",
                "聊城市再生资源回收站点、分拣中心、转运站、餐厨和建筑垃圾处理设施的分布和信息。",
            ),
            rows: list.iter().map(|f| FacilityRow::of(f, &ds)).collect(),
            map: map.svg(),
            kinds: choices(
                FACILITY_KINDS
                    .iter()
                    .map(|k| (k.as_str(), labels::facility_kind(*k))),
                kind.map(facility::Kind::as_str),
            ),
            districts: district_choices(&ds, district.as_deref()),
        })
    }
    .await;
    page(&ctx, &req, result)
}

#[derive(Template)]
#[template(path = "pages/facility.html")]
struct FacilityPage {
    shell: Shell,
    row: FacilityRow,
    map: String,
}

/// `GET /facilities/{id}`: one facility on the public map.
pub async fn one(
    req: HttpRequest,
    platform: web::Data<Platform>,
    id: web::Path<String>,
) -> HttpResponse {
    let ctx = Ctx::new(&req);
    let result = async {
        let id = parse_id(&id)?;
        let collection = facilities::map(&platform.db, &FacilityFilter::default()).await?;
        let f = collection
            .features
            .into_iter()
            .map(|f| f.properties)
            .find(|f| f.id == id)
            .ok_or(Fault::NotFound)?;
        let ds = districts(&platform).await?;
        let map = Map::new(
            format!("{}的位置", f.name),
            [(
                f.name.clone(),
                format!("/facilities/{}", f.id),
                f.lat,
                f.lng,
                f.kind.as_str(),
            )],
            platform.settings.map_tile_url.as_deref(),
        );
        let row = FacilityRow::of(&f, &ds);
        Ok(FacilityPage {
            shell: ctx.shell(
                "facilities",
                f.name.clone(),
                format!("{}：{}，{}", row.kind, f.name, f.address),
            ),
            row,
            map: map.svg(),
        })
    }
    .await;
    page(&ctx, &req, result)
}
