//! `/v1/recycler`: the recycler's day.

pub mod accept;
pub mod arrive;
pub mod complete;
pub mod depart;
pub mod location;
pub mod no_show;
pub mod offers;
pub mod pickups;
pub mod reject;
pub mod shift;

use crate::idempotency::idempotent;
use actix_web::{middleware::from_fn, web};

/// Registers the recycler's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/recycler/shift").route(web::post().to(shift::shift)))
        .service(web::resource("/recycler/location").route(web::post().to(location::location)))
        .service(web::resource("/recycler/offers").route(web::get().to(offers::offers)))
        .service(
            web::resource("/recycler/offers/{id}/accept").route(web::post().to(accept::accept)),
        )
        .service(
            web::resource("/recycler/offers/{id}/reject").route(web::post().to(reject::reject)),
        )
        .service(web::resource("/recycler/pickups").route(web::get().to(pickups::pickups)))
        .service(
            web::resource("/recycler/pickups/{id}/depart").route(web::post().to(depart::depart)),
        )
        .service(
            web::resource("/recycler/pickups/{id}/arrive").route(web::post().to(arrive::arrive)),
        )
        .service(
            web::resource("/recycler/pickups/{id}/no-show").route(web::post().to(no_show::no_show)),
        )
        .service(
            web::resource("/recycler/pickups/{id}/complete")
                .wrap(from_fn(idempotent))
                .route(web::post().to(complete::complete)),
        );
}

/// This folder's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    shift::shift,
    location::location,
    offers::offers,
    accept::accept,
    reject::reject,
    pickups::pickups,
    depart::depart,
    arrive::arrive,
    no_show::no_show,
    complete::complete,
))]
pub struct Api;
