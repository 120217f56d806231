//! The rules a resident's actions are held to, from the settings: how late a slot can be
//! booked, until when cancelling is free, how long a weigh ticket can be disputed.

use chrono::Duration;

use crate::config::Settings;

/// The booking rules in force.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Booking closes this long before a slot.
    pub booking_lead: Duration,
    /// Free cancellation until this long before a slot.
    pub cancel_cutoff: Duration,
    /// Disputes are accepted this long after completion.
    pub dispute_window: Duration,
}

impl Rules {
    /// From the settings.
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            booking_lead: Duration::minutes(i64::from(s.booking_lead_minutes)),
            cancel_cutoff: Duration::minutes(i64::from(s.cancel_cutoff_minutes)),
            dispute_window: Duration::hours(i64::from(s.dispute_window_hours)),
        }
    }
}
