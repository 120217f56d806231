//! Routes, one action per file under a folder per resource. Handlers are thin: extract,
//! parse, authorise, call one domain service, map to a response.

pub mod addresses;
pub mod admin;
pub mod applications;
pub mod auth;
pub mod devices;
pub mod health;
pub mod mall;
pub mod me;
pub mod notifications;
pub mod pickups;
pub mod points;
pub mod recycler;
pub mod reference;
pub mod slots;
pub mod uploads;
pub mod ws;

use actix_web::{middleware::from_fn, web};

use crate::idempotency::idempotent;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(health::healthz)))
        .service(web::resource("/readyz").route(web::get().to(health::readyz)))
        .service(web::resource("/metrics").route(web::get().to(health::metrics)))
        .service(
            web::scope("/v1")
                .service(web::resource("/auth/wechat").route(web::post().to(auth::wechat::login)))
                .service(
                    web::resource("/auth/password").route(web::post().to(auth::password::login)),
                )
                .service(
                    web::resource("/auth/refresh").route(web::post().to(auth::refresh::refresh)),
                )
                .service(web::resource("/auth/logout").route(web::post().to(auth::logout::logout)))
                .service(
                    web::resource("/auth/session").route(web::get().to(auth::session::session)),
                )
                .service(
                    web::resource("/me")
                        .route(web::get().to(me::get::get))
                        .route(web::patch().to(me::update::update)),
                )
                .service(web::resource("/districts").route(web::get().to(reference::districts)))
                .service(
                    web::resource("/catalog/categories")
                        .route(web::get().to(reference::categories)),
                )
                .service(
                    web::resource("/catalog/rates/history")
                        .route(web::get().to(reference::rate_history)),
                )
                .service(web::resource("/pickup-slots").route(web::get().to(slots::pickup_slots)))
                .configure(admin::categories::configure)
                .configure(admin::districts::configure)
                .configure(admin::communities::configure)
                .configure(admin::slot_templates::configure)
                .configure(points::configure)
                .configure(admin::points::configure)
                .configure(admin::devices::configure)
                .configure(devices::configure)
                .configure(admin::mall_items::configure)
                .configure(mall::configure)
                .service(
                    web::resource("/uploads")
                        .wrap(from_fn(idempotent))
                        .route(web::post().to(uploads::create::create)),
                )
                .service(
                    web::resource("/uploads/{id}/content")
                        .route(web::get().to(uploads::content::content)),
                )
                .service(
                    web::resource("/notifications").route(web::get().to(notifications::list::list)),
                )
                .service(
                    web::resource("/notifications/read-all")
                        .route(web::post().to(notifications::read_all::read_all)),
                )
                .service(
                    web::resource("/notifications/{id}/read")
                        .route(web::post().to(notifications::read::read)),
                )
                .service(web::resource("/ws").route(web::get().to(ws::connect)))
                .service(
                    web::resource("/me/addresses")
                        .route(web::get().to(addresses::list::list))
                        .route(web::post().to(addresses::create::create)),
                )
                .service(
                    web::resource("/me/addresses/{id}")
                        .route(web::patch().to(addresses::update::update))
                        .route(web::delete().to(addresses::delete::delete)),
                )
                .service(
                    web::resource("/pickups")
                        .wrap(from_fn(idempotent))
                        .route(web::get().to(pickups::list::list))
                        .route(web::post().to(pickups::create::create)),
                )
                .service(web::resource("/pickups/{id}").route(web::get().to(pickups::get::get)))
                .service(
                    web::resource("/pickups/{id}/cancel")
                        .route(web::post().to(pickups::cancel::cancel)),
                )
                .service(
                    web::resource("/pickups/{id}/reschedule")
                        .route(web::post().to(pickups::reschedule::reschedule)),
                )
                .service(
                    web::resource("/pickups/{id}/rating")
                        .route(web::post().to(pickups::rating::rating)),
                )
                .service(
                    web::resource("/pickups/{id}/complaint")
                        .route(web::post().to(pickups::complaint::complaint)),
                )
                .service(
                    web::resource("/pickups/{id}/dispute")
                        .route(web::post().to(pickups::dispute::dispute)),
                )
                .service(
                    web::resource("/recycler-applications")
                        .wrap(from_fn(idempotent))
                        .route(web::post().to(applications::create::create)),
                )
                .service(
                    web::resource("/recycler-applications/mine")
                        .route(web::get().to(applications::mine::mine))
                        .route(web::patch().to(applications::amend::amend)),
                )
                .service(
                    web::resource("/recycler/shift").route(web::post().to(recycler::shift::shift)),
                )
                .service(
                    web::resource("/recycler/location")
                        .route(web::post().to(recycler::location::location)),
                )
                .service(
                    web::resource("/recycler/offers")
                        .route(web::get().to(recycler::offers::offers)),
                )
                .service(
                    web::resource("/recycler/offers/{id}/accept")
                        .route(web::post().to(recycler::accept::accept)),
                )
                .service(
                    web::resource("/recycler/offers/{id}/reject")
                        .route(web::post().to(recycler::reject::reject)),
                )
                .service(
                    web::resource("/recycler/pickups")
                        .route(web::get().to(recycler::pickups::pickups)),
                )
                .service(
                    web::resource("/recycler/pickups/{id}/depart")
                        .route(web::post().to(recycler::depart::depart)),
                )
                .service(
                    web::resource("/recycler/pickups/{id}/arrive")
                        .route(web::post().to(recycler::arrive::arrive)),
                )
                .service(
                    web::resource("/recycler/pickups/{id}/no-show")
                        .route(web::post().to(recycler::no_show::no_show)),
                )
                .service(
                    web::resource("/recycler/pickups/{id}/complete")
                        .wrap(from_fn(idempotent))
                        .route(web::post().to(recycler::complete::complete)),
                )
                .service(
                    web::resource("/admin/recycler-applications")
                        .route(web::get().to(admin::applications::applications)),
                )
                .service(
                    web::resource("/admin/recycler-applications/{id}/approve")
                        .route(web::post().to(admin::approve::approve)),
                )
                .service(
                    web::resource("/admin/recycler-applications/{id}/reject")
                        .route(web::post().to(admin::reject::reject)),
                )
                .service(
                    web::resource("/admin/pickups").route(web::get().to(admin::pickups::pickups)),
                )
                .service(
                    web::resource("/admin/pickups/{id}/assign")
                        .route(web::post().to(admin::assign::assign)),
                ),
        );
}
