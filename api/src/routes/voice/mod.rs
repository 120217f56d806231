//! `/v1/suggestions` and `/v1/surveys`: the public's voice — suggestions sent signed in or
//! anonymously and read once published, and the quarterly satisfaction survey.

pub mod answer_survey;
pub mod get_suggestion;
pub mod list_suggestions;
pub mod my_suggestions;
pub mod submit;
pub mod survey_results;

use actix_web::{middleware::from_fn, web};
use wufei_domain::voice::suggestions::SuggestionView;

use crate::{cache::cached, idempotency::idempotent};

/// A page of suggestions.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SuggestionPage {
    /// In the list's order.
    pub items: Vec<SuggestionView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// Registers this folder's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/suggestions")
            .route(
                web::get()
                    .to(list_suggestions::list_suggestions)
                    .wrap(from_fn(cached)),
            )
            .route(web::post().to(submit::submit).wrap(from_fn(idempotent))),
    )
    .service(
        web::resource("/suggestions/mine").route(web::get().to(my_suggestions::my_suggestions)),
    )
    .service(
        web::resource("/suggestions/{id}").route(web::get().to(get_suggestion::get_suggestion)),
    )
    .service(
        web::resource("/surveys/satisfaction")
            .wrap(from_fn(idempotent))
            .route(web::post().to(answer_survey::answer_survey)),
    )
    .service(
        web::resource("/surveys/satisfaction/results")
            .route(web::get().to(survey_results::survey_results)),
    );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    submit::submit,
    list_suggestions::list_suggestions,
    my_suggestions::my_suggestions,
    get_suggestion::get_suggestion,
    answer_survey::answer_survey,
    survey_results::survey_results,
))]
pub struct Api;
