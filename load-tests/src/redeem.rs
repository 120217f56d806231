//! `redeem`: redemption throughput under contention on ONE item.
//!
//! Residents (rows by SQL, tokens signed by the bench as in `door`) are each given points
//! through `POST /v1/admin/points/adjustments` (the ledger's own path, so balances and lots
//! are real), and an item with a large stock is created through
//! `POST /v1/admin/mall/items`; then they all `POST /v1/mall/redemptions
//! {item_id, quantity: 1}` for that one item, closed loop. The baseline, `POST
//! /bare/redeem`, does in one transaction the two writes every redemption needs at least: the
//! conditional stock update of a second item of the same table (so the same row lock
//! queues every request) and the insert of a points debit into its own table.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use hyper::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    door::{self, DISTRICT},
    http::RequestSpec,
    load::Rotate,
    points::Ctx,
    scenarios::{Comparison, Side},
};

/// Points each resident is given.
const POINTS_EACH: i64 = 100_000;
/// Points per unit of the items.
const ITEM_POINTS: i64 = 10;
/// Stock of the items (the API's maximum).
const STOCK: i64 = 1_000_000;

async fn item(ctx: &Ctx, name: &str) -> anyhow::Result<Uuid> {
    let spec = RequestSpec::post_json(
        "/v1/admin/mall/items",
        &json!({
            "name": name, "kind": "goods", "description": "wufei-bench",
            "points": ITEM_POINTS, "stock": STOCK, "district_code": DISTRICT,
            "station": "星光花园回收站"
        }),
    )?
    .bearer(&ctx.admin_token)?;
    let answer = door::call(ctx.api, &spec, StatusCode::CREATED).await?;
    answer
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no item id in {answer}"))
}

/// Makes the fixture and the comparison.
pub async fn prepare(
    ctx: &Ctx,
    baseline: SocketAddr,
    residents: usize,
) -> anyhow::Result<Comparison> {
    let env = door::Env::new(ctx.api, &ctx.db_url, &ctx.secret, &ctx.admin_token).await?;
    let ids: Vec<Uuid> = (0..residents.max(1)).map(|_| Uuid::now_v7()).collect();
    let rows: Vec<String> = ids
        .iter()
        .map(|id| format!("('{id}', 'resident', 'bench:redeem', 'active', now(), now())"))
        .collect();
    env.db
        .execute_unprepared(&format!(
            "INSERT INTO users (id, role, nickname, status, created_at, updated_at) VALUES {}",
            rows.join(", ")
        ))
        .await
        .context("inserting residents")?;
    // Enough budget for every resident's points.
    let budget = RequestSpec::post_json(
        "/v1/admin/points/budgets",
        &json!({
            "district_code": DISTRICT,
            "points": POINTS_EACH * ids.len() as i64,
            "reason": "wufei-bench redeem"
        }),
    )?
    .bearer(&ctx.admin_token)?;
    door::call(ctx.api, &budget, StatusCode::CREATED).await?;
    for id in &ids {
        let spec = RequestSpec::post_json(
            "/v1/admin/points/adjustments",
            &json!({
                "user_id": id, "points": POINTS_EACH, "district_code": DISTRICT,
                "reason": "wufei-bench redeem fixture"
            }),
        )?
        .bearer(&ctx.admin_token)?;
        door::call(ctx.api, &spec, StatusCode::CREATED).await?;
    }
    let wufei_item = item(ctx, "环保袋（bench）").await?;
    let bare_item = item(ctx, "环保袋（bench baseline）").await?;
    let mut wufei = Vec::with_capacity(ids.len());
    let mut bare = Vec::with_capacity(ids.len());
    for id in &ids {
        let token = door::sign(&ctx.secret, *id, "resident")?;
        wufei.push(
            RequestSpec::post_json(
                "/v1/mall/redemptions",
                &json!({ "item_id": wufei_item, "quantity": 1 }),
            )?
            .bearer(&token)?,
        );
        bare.push(RequestSpec::post_json(
            "/bare/redeem",
            &json!({ "resident_id": id, "item_id": bare_item }),
        )?);
    }
    Ok(Comparison {
        id: "redeem",
        subject: Side {
            label: "POST /v1/mall/redemptions".to_owned(),
            addr: ctx.api,
            workload: Arc::new(Rotate::new(wufei)?),
        },
        baseline: Side {
            label: "POST /bare/redeem".to_owned(),
            addr: baseline,
            workload: Arc::new(Rotate::new(bare)?),
        },
        goal: 0.0,
        note: Some(format!(
            "{} residents with {POINTS_EACH} points each (admin adjustments) redeeming one \
             item (stock {STOCK}, {ITEM_POINTS} points); no goal is set for the ratio",
            ids.len()
        )),
    })
}
