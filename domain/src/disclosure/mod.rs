//! Public information disclosure (信息公开, the plan's 五(三)). So far: the plan made public
//! — its indicators with targets, yearly values and progress ([`indicators`]), the ones
//! Wufei measures from its own ledgers ([`measured`]), and its tasks with their progress
//! ([`tasks`]); zero-waste cells ([`cells`]) and facilities on the map ([`facilities`]);
//! articles with their review, attachments, search and column freshness ([`articles`]).
//! The indicators and tasks come from `domain/data/plan/` (extracted from the plan's text,
//! see its README) and are seeded at start ([`seed`]); nothing is invented.

pub mod articles;
pub mod cells;
pub mod facilities;
pub mod indicators;
pub mod jobs;
pub mod measured;
pub mod seed;
pub mod tasks;
