//! What a pickup's people hear when it changes: the resident's inbox notice (delivered to
//! WeChat by the worker) and the real-time pushes, staged in the caller's transaction so
//! they go out exactly when the change commits.

use serde_json::Value;
use uuid::Uuid;

use super::{status::Status, topics::STATUS_CHANGED, transition::reload};
use crate::{entities::pickup, error::Result, jobs::outbox};
use sea_orm::ConnectionTrait;

/// Tells the resident what changed (an inbox notification, delivered to WeChat by the
/// worker) and stages the real-time pushes, in the caller's transaction: the resident hears
/// of a change exactly when it commits.
pub(crate) async fn announce(
    txn: &impl ConnectionTrait,
    pickup_id: Uuid,
    status: Status,
    withdrawn_from: &[Uuid],
) -> Result<()> {
    let p = reload(txn, pickup_id).await?;
    announce_as(txn, &p, status, withdrawn_from).await
}

/// [`announce`] for a caller that holds the pickup as it now is (`p`), sparing the read.
pub(crate) async fn announce_as(
    txn: &impl ConnectionTrait,
    p: &pickup::Model,
    status: Status,
    withdrawn_from: &[Uuid],
) -> Result<()> {
    let pushes = status_push(p, status, withdrawn_from);
    match resident_notice(p, status) {
        Some(n) => {
            crate::notifications::notify_staging(txn, n, vec![(STATUS_CHANGED, pushes, None)])
                .await?;
        }
        None => {
            outbox::stage(txn, STATUS_CHANGED, pushes, None).await?;
        }
    }
    Ok(())
}

/// The payload of the `pickup.status_changed` push for pickup `p` now in `status`.
pub(crate) fn status_push(p: &pickup::Model, status: Status, withdrawn_from: &[Uuid]) -> Value {
    serde_json::json!({
        "pickup_id": p.id,
        "status": status,
        "resident_id": p.resident_id,
        "recycler_id": p.recycler_id,
        "withdrawn_from": withdrawn_from,
    })
}

/// What the resident's inbox says when pickup `p` enters `status`, if anything.
pub(crate) fn resident_notice(
    p: &pickup::Model,
    status: Status,
) -> Option<crate::notifications::NewNotification> {
    let (title, body) = match status {
        Status::Accepted => ("回收员已接单", "回收员已接单，将按预约时段上门。"),
        Status::EnRoute => ("回收员正在上门", "回收员已出发，可在订单中查看实时位置。"),
        Status::Arrived => ("回收员已到达", "回收员已到达您的地址，请准备好回收物。"),
        Status::Completed => (
            "回收已完成",
            "回收员已完成称重，请核对称重单；如有异议可在规定时间内申诉。",
        ),
        Status::NoShow => ("上门未遇", "回收员上门时无人应答，本次预约已结束。"),
        Status::Cancelled => ("预约已取消", "您的上门回收预约已取消。"),
        Status::Expired => (
            "预约已过期",
            "很抱歉，预约时段内未能安排回收员，请重新预约。",
        ),
        Status::PendingDispatch if p.manual_dispatch => (
            "正在人工调度",
            "暂时没有回收员接单，工作人员正在为您人工安排。",
        ),
        _ => return None,
    };
    let kind = if status == Status::PendingDispatch {
        crate::notifications::kinds::MANUAL_DISPATCH
    } else {
        crate::notifications::kinds::PICKUP_STATUS
    };
    Some(crate::notifications::NewNotification {
        user_id: p.resident_id,
        kind: kind.into(),
        title: title.into(),
        body: body.into(),
        data: serde_json::json!({ "pickup_id": p.id, "status": status }),
    })
}
