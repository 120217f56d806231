//! Chinese names of the codes the domain stores, and how numbers read on a page. These
//! are presentation only: the codes stay the API's.

use wufei_domain::entities::{facility, plan_task, zero_waste_cell};

/// A zero-waste cell kind's name.
pub fn cell_kind(k: zero_waste_cell::Kind) -> &'static str {
    use zero_waste_cell::Kind as K;
    match k {
        K::ZeroWasteFactory => "无废工厂",
        K::ZeroWastePark => "无废园区",
        K::ZeroWasteGroup => "无废集团",
        K::ZeroWasteCommunity => "无废社区",
        K::ZeroWasteSchool => "无废学校",
        K::ZeroWasteScenicArea => "无废景区",
        K::ZeroWasteFarm => "无废农场",
        K::ZeroWasteVillage => "无废乡村",
    }
}

/// Every cell kind, for the filter.
pub const CELL_KINDS: [zero_waste_cell::Kind; 8] = {
    use zero_waste_cell::Kind as K;
    [
        K::ZeroWasteFactory,
        K::ZeroWastePark,
        K::ZeroWasteGroup,
        K::ZeroWasteCommunity,
        K::ZeroWasteSchool,
        K::ZeroWasteScenicArea,
        K::ZeroWasteFarm,
        K::ZeroWasteVillage,
    ]
};

/// A facility kind's name.
pub fn facility_kind(k: facility::Kind) -> &'static str {
    use facility::Kind as K;
    match k {
        K::RecyclingStation => "再生资源回收站点",
        K::SortingCentre => "分拣中心",
        K::TransferStation => "垃圾转运站",
        K::KitchenWastePlant => "餐厨垃圾处理厂",
        K::ConstructionWastePlant => "建筑垃圾资源化利用厂",
        K::HazardousWastePoint => "危险废物收集点",
    }
}

/// Every facility kind, for the filter.
pub const FACILITY_KINDS: [facility::Kind; 6] = {
    use facility::Kind as K;
    [
        K::RecyclingStation,
        K::SortingCentre,
        K::TransferStation,
        K::KitchenWastePlant,
        K::ConstructionWastePlant,
        K::HazardousWastePoint,
    ]
};

/// A task status's name.
pub fn task_status(s: plan_task::Status) -> &'static str {
    use plan_task::Status as S;
    match s {
        S::NotReported => "未报送",
        S::NotStarted => "未启动",
        S::InProgress => "推进中",
        S::Completed => "已完成",
        S::Delayed => "滞后",
    }
}

/// The task statuses, for the filter: code and name.
pub const TASK_STATUSES: [(&str, &str); 5] = [
    ("not_reported", "未报送"),
    ("not_started", "未启动"),
    ("in_progress", "推进中"),
    ("completed", "已完成"),
    ("delayed", "滞后"),
];

/// A trade unit's name (`t` → 吨).
pub fn unit(u: &str) -> &str {
    match u {
        "t" => "吨",
        "m3" => "立方米",
        "m2" => "平方米",
        "piece" => "块",
        "thousand_pieces" => "千块",
        "kg" => "千克",
        other => other,
    }
}

/// A certificate kind's name.
pub fn certificate(kind: &str) -> &'static str {
    match kind {
        "green_building_material" => "绿色建材产品认证",
        "test_report" => "检测报告",
        "promotion_catalogue" => "推广应用目录",
        _ => "证书",
    }
}

/// Fen as yuan, `¥1,234.50`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", grouped(fen / 100), fen % 100)
}

/// An integer with thousands separators.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A figure with up to `decimals` decimals, trailing zeros dropped, thousands grouped.
pub fn figure(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    let int = grouped(int.parse().unwrap_or(0));
    let sign = if v < 0.0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// A share 0–1 as a whole percentage, `64%`.
pub fn percent(share: f64) -> String {
    format!("{:.0}%", (share.clamp(0.0, 1.0) * 100.0).floor())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(yuan(123_456), "¥1,234.56");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(figure(1234.500, 2), "1,234.5");
        assert_eq!(figure(0.0, 1), "0");
        assert_eq!(figure(-0.001, 1), "0");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(percent(0.666), "66%");
    }
}
