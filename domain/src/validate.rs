//! Collecting field errors: a service checks every field of a request and refuses it once,
//! with all the reasons, as a 422 whose `errors` name each field. Nothing here touches the
//! database.

use crate::error::{Error, FieldError, Result};

/// Field errors gathered while checking one request.
#[derive(Debug, Default)]
pub struct Check {
    fields: Vec<FieldError>,
}

impl Check {
    /// An empty check.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` is invalid.
    pub fn fail(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.fields.push(FieldError::new(field, code, message));
    }

    /// Records a failure unless `ok`.
    pub fn ensure(
        &mut self,
        ok: bool,
        field: impl Into<String>,
        code: &str,
        message: impl Into<String>,
    ) {
        if !ok {
            self.fail(field, code, message);
        }
    }

    /// Checks a human-readable name or text: trimmed, between `min` and `max` characters.
    /// Returns the trimmed text.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let trimmed = value.trim();
        let len = trimmed.chars().count();
        if len < min {
            self.fail(
                field,
                "required",
                format!("must have at least {min} character(s)"),
            );
        } else if len > max {
            self.fail(
                field,
                "too_long",
                format!("must have at most {max} characters"),
            );
        }
        trimmed.to_string()
    }

    /// Checks that `value` lies in `min..=max`; returns it as `i32` (0 when out of range, the
    /// error already recorded).
    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) -> i32 {
        if (min..=max).contains(&value) {
            i32::try_from(value).unwrap_or_default()
        } else {
            self.fail(
                field,
                "out_of_range",
                format!("must be between {min} and {max}"),
            );
            0
        }
    }

    /// Whether nothing failed so far.
    pub fn is_ok(&self) -> bool {
        self.fields.is_empty()
    }

    /// `Ok` when nothing failed, otherwise a 422 listing every field.
    pub fn finish(self) -> Result<()> {
        if self.fields.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = self.fields.iter().map(|f| f.field.as_str()).collect();
        Err(Error::Validation {
            message: format!("invalid: {}", names.join(", ")),
            fields: self.fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_failure_before_refusing() {
        let mut c = Check::new();
        assert_eq!(c.text("name", "  纸类  ", 1, 64), "纸类");
        assert!(c.is_ok());
        c.text("name", "   ", 1, 64);
        assert_eq!(c.range("points", 7, 0, 5), 0);
        match c.finish() {
            Err(Error::Validation { fields, .. }) => {
                assert_eq!(fields.len(), 2);
                assert_eq!(fields[0].code, "required");
                assert_eq!(fields[1].field, "points");
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
}

/// Deserialises a field that may be absent (outer `None`: leave it), `null` (`Some(None)`:
/// clear it) or a value: use with `#[serde(default, with = "crate::validate::double_option")]`.
pub mod double_option {
    use serde::{Deserialize, Deserializer};

    /// See the module.
    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}
