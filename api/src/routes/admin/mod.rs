//! `/v1/admin`: administration, scoped by role and district. Each resource registers full
//! paths (`/admin/<resource>`) inside the `/v1` scope rather than an `/admin` scope of its
//! own, so several resources can add admin routes without shadowing each other.

pub mod categories;
pub mod communities;
pub mod districts;
pub mod slot_templates;
