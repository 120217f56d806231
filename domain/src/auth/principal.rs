//! Who is calling: the authenticated principal, its role and, for administrators and
//! station managers, the district it is scoped to. Object-level checks live in services;
//! these are the coarse ones every route shares.

use uuid::Uuid;

pub use crate::entities::user::{AdminScope, Role};
use crate::error::{Error, Result};

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's id.
    pub user_id: Uuid,
    /// The user's role.
    pub role: Role,
    /// Administrators only.
    pub admin_scope: Option<AdminScope>,
    /// District of a scoped administrator or station manager.
    pub district_code: Option<String>,
}

impl Principal {
    /// Whether the caller is an administrator of any scope.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the caller is a city-wide administrator.
    pub fn is_super_admin(&self) -> bool {
        self.is_admin() && self.admin_scope == Some(AdminScope::SuperAdmin)
    }

    /// Refuses unless the caller has one of `roles` (403).
    pub fn require_role(&self, roles: &[Role]) -> Result<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "this needs the role {}",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }

    /// Refuses unless the caller is a super administrator (403).
    pub fn require_super_admin(&self) -> Result<()> {
        if self.is_super_admin() {
            Ok(())
        } else {
            Err(Error::forbidden("this needs a city-wide administrator"))
        }
    }

    /// Whether the caller may administer `district` (super admins: any; district admins and
    /// station managers: their own).
    pub fn may_administer_district(&self, district: &str) -> bool {
        match (self.role, self.admin_scope) {
            (Role::Admin, Some(AdminScope::SuperAdmin)) => true,
            (Role::Admin, _) | (Role::StationManager, _) => {
                self.district_code.as_deref() == Some(district)
            }
            _ => false,
        }
    }

    /// Refuses unless [`Self::may_administer_district`] (403).
    pub fn require_district(&self, district: &str) -> Result<()> {
        if self.may_administer_district(district) {
            Ok(())
        } else {
            Err(Error::forbidden(format!(
                "this needs authority over district {district}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(role: Role, scope: Option<AdminScope>, d: Option<&str>) -> Principal {
        Principal {
            user_id: Uuid::nil(),
            role,
            admin_scope: scope,
            district_code: d.map(str::to_string),
        }
    }

    #[test]
    fn district_scope_is_enforced() {
        let sup = p(Role::Admin, Some(AdminScope::SuperAdmin), None);
        let local = p(Role::Admin, Some(AdminScope::District), Some("371502"));
        let resident = p(Role::Resident, None, Some("371502"));
        assert!(sup.may_administer_district("371526"));
        assert!(local.may_administer_district("371502"));
        assert!(!local.may_administer_district("371526"));
        assert!(!resident.may_administer_district("371502"));
        assert!(local.require_super_admin().is_err());
    }
}
