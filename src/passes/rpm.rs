//! # rpm-hygiene (DOP004)
//!
//! ## What it does
//! Checks `dnf`, `yum`, `microdnf`, `tdnf` and `zypper` installs in shell-form
//! RUNs: they must not wait for a confirmation (`-y`, `zypper --non-interactive`)
//! and the same RUN must clean the package cache (`dnf clean all`,
//! `zypper clean --all`) afterwards.
//!
//! ## Why is this bad?
//! The metadata and package cache (often 100+ MB on RHEL-family images) stays in
//! the layer unless cleaned in the same RUN.
//!
//! ## Example
//! ```dockerfile
//! RUN dnf install -y httpd
//! ```
//! Use instead:
//! ```dockerfile
//! RUN dnf install -y httpd && dnf clean all
//! ```
//!
//! ## Fix safety
//! Safe: the cleanup runs after the install and removes only caches.

use crate::fix::Finding;
use crate::passes::{package_hygiene, Pass, PassContext};

/// See the module docs.
pub struct RpmHygiene;

impl Pass for RpmHygiene {
    fn code(&self) -> &'static str {
        "DOP004"
    }
    fn name(&self) -> &'static str {
        "rpm-hygiene"
    }
    fn summary(&self) -> &'static str {
        "dnf/yum/microdnf/zypper installs without `-y` or a cache clean in the same RUN"
    }
    fn docs(&self) -> &'static str {
        static DOCS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DOCS.get_or_init(|| package_hygiene::module_docs(include_str!("rpm.rs")))
    }
    fn related(&self) -> &'static [&'static str] {
        &[
            "hadolint DL3032",
            "hadolint DL3038",
            "hadolint DL3040",
            "hadolint DL3036",
            "hadolint DL3034",
        ]
    }
    fn run(&self, ctx: &PassContext) -> Vec<Finding> {
        package_hygiene::check(ctx, &["dnf", "zypper"], "DOP004", "rpm-hygiene")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::package_hygiene::testing::{fix, run};

    #[test]
    fn cleans_in_the_same_layer() {
        assert_eq!(
            fix(
                &RpmHygiene,
                "FROM fedora\nRUN dnf install httpd\n",
                None,
                false
            ),
            "FROM fedora\nRUN dnf install -y httpd && dnf clean all\n"
        );
        assert_eq!(
            fix(
                &RpmHygiene,
                "FROM centos:7\nRUN yum -y install a && yum -y install b\n",
                None,
                false
            ),
            "FROM centos:7\nRUN yum -y install a && yum -y install b && yum clean all\n"
        );
        assert_eq!(
            fix(
                &RpmHygiene,
                "FROM ubi\nRUN microdnf install -y x\n",
                None,
                false
            ),
            "FROM ubi\nRUN microdnf install -y x && microdnf clean all\n"
        );
        assert_eq!(
            fix(
                &RpmHygiene,
                "FROM opensuse/leap\nRUN zypper install -y x\n",
                None,
                false
            ),
            "FROM opensuse/leap\nRUN zypper install -y x && zypper clean --all\n"
        );
    }

    #[test]
    fn zypper_in_alias() {
        assert_eq!(
            fix(
                &RpmHygiene,
                "FROM opensuse/leap\nRUN zypper in x\n",
                None,
                false
            ),
            "FROM opensuse/leap\nRUN zypper in --non-interactive x && zypper clean --all\n"
        );
    }

    #[test]
    fn must_not_fire() {
        for src in [
            "FROM fedora\nRUN dnf install -y httpd && dnf clean all\n",
            "FROM fedora\nRUN dnf install -y httpd && rm -rf /var/cache/dnf\n",
            "FROM fedora\nRUN --mount=type=cache,target=/var/cache/dnf dnf install -y httpd\n",
            "FROM opensuse/leap\nRUN zypper --non-interactive install x && zypper clean -a\n",
            "FROM opensuse/leap\nRUN zypper -n in x && zypper clean -a\n",
        ] {
            assert!(run(&RpmHygiene, src, None).is_empty(), "fired on:\n{src}");
        }
    }
}
