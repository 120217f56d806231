//! The public's voice (五(三): hearing the public's suggestions and satisfaction):
//! suggestions (意见建议) sent signed in or anonymously, moderated, published with personal
//! data masked and the department's reply ([`suggestions`]), also spoken as Open311
//! GeoReport v2 ([`open311`]); the quarterly satisfaction survey ([`satisfaction`]).

pub mod jobs;
pub mod open311;
pub mod redact;
pub mod satisfaction;
pub mod suggestions;
