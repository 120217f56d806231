//! The maps, without JavaScript: the service region (Liaocheng's bounds, the same that
//! positions are checked against) in Web Mercator, each point a link to its page, and —
//! when `WUFEI_MAP_TILE_URL` names a tile server — the tiles under them as SVG images.
//! With no tile server the map is the points on a plain background, and the page still
//! lists every point beside it.

use askama::Template;
use wufei_domain::pickups::addresses::{REGION_LAT, REGION_LNG};

/// The zoom whose tiles are drawn (the region is about 3 × 3 tiles at 9).
const ZOOM: i32 = 9;
/// A tile's side, pixels.
const TILE: f64 = 256.0;

/// One point on the map.
pub struct Point {
    /// Its name (the link's accessible name and tooltip).
    pub label: String,
    /// Its page.
    pub href: String,
    /// Projected x in the drawing.
    pub x: f64,
    /// Projected y in the drawing.
    pub y: f64,
    /// A style class (its kind).
    pub class: &'static str,
}

/// One tile.
pub struct Tile {
    /// Its address.
    pub href: String,
    /// Left in the drawing.
    pub x: f64,
    /// Top in the drawing.
    pub y: f64,
}

/// A map of points.
#[derive(Template)]
#[template(path = "pages/map.html")]
pub struct Map {
    /// Its accessible name.
    pub title: String,
    /// The drawing's width and height.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// The tiles, when a tile server is configured.
    pub tiles: Vec<Tile>,
    /// The points.
    pub points: Vec<Point>,
}

/// World pixel coordinates of a position at [`ZOOM`].
fn project(lat: f64, lng: f64) -> (f64, f64) {
    let world = TILE * f64::from(1 << ZOOM);
    let x = (lng + 180.0) / 360.0 * world;
    let phi = lat.to_radians();
    let y = (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0 * world;
    (x, y)
}

impl Map {
    /// A map titled `title` of `points` (label, page, lat, lng, class), with tiles from
    /// `tile_url` (`{z}`, `{x}`, `{y}` replaced) when there is one. Points outside the
    /// region are left off the drawing (the list beside it still names them).
    pub fn new(
        title: impl Into<String>,
        points: impl IntoIterator<Item = (String, String, f64, f64, &'static str)>,
        tile_url: Option<&str>,
    ) -> Self {
        let (x0, y0) = project(REGION_LAT.1, REGION_LNG.0);
        let (x1, y1) = project(REGION_LAT.0, REGION_LNG.1);
        let points = points
            .into_iter()
            .filter(|p| {
                (REGION_LAT.0..=REGION_LAT.1).contains(&p.2)
                    && (REGION_LNG.0..=REGION_LNG.1).contains(&p.3)
            })
            .map(|(label, href, lat, lng, class)| {
                let (x, y) = project(lat, lng);
                Point {
                    label,
                    href,
                    x: x - x0,
                    y: y - y0,
                    class,
                }
            })
            .collect();
        let mut tiles = Vec::new();
        if let Some(url) = tile_url {
            let (tx0, tx1) = ((x0 / TILE).floor() as i64, (x1 / TILE).floor() as i64);
            let (ty0, ty1) = ((y0 / TILE).floor() as i64, (y1 / TILE).floor() as i64);
            for ty in ty0..=ty1 {
                for tx in tx0..=tx1 {
                    tiles.push(Tile {
                        href: url
                            .replace("{z}", &ZOOM.to_string())
                            .replace("{x}", &tx.to_string())
                            .replace("{y}", &ty.to_string()),
                        x: tx as f64 * TILE - x0,
                        y: ty as f64 * TILE - y0,
                    });
                }
            }
        }
        Self {
            title: title.into(),
            width: x1 - x0,
            height: y1 - y0,
            tiles,
            points,
        }
    }

    /// The SVG.
    pub fn svg(&self) -> String {
        self.render().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_fills_the_drawing_and_tiles_cover_it() {
        let map = Map::new(
            "m",
            vec![
                ("中心".into(), "/cells/1".into(), 36.45, 115.98, "cell"),
                ("远处".into(), "/cells/2".into(), 40.0, 116.0, "cell"),
            ],
            Some("/tiles/{z}/{x}/{y}.png"),
        );
        assert_eq!(
            map.points.len(),
            1,
            "a point outside the region is left off"
        );
        let p = &map.points[0];
        assert!(p.x > 0.0 && p.x < map.width && p.y > 0.0 && p.y < map.height);
        assert!(!map.tiles.is_empty());
        assert!(map.tiles.iter().all(|t| t.href.starts_with("/tiles/9/")));
        assert!(Map::new("m", vec![], None).tiles.is_empty());
    }
}
