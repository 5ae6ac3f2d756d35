//! Which stage of the file is the image that runs: the compose `target:` of
//! the service that builds this context, else the final stage, unless that is
//! a development environment (Docker Dev Environments' `dev-envs`, `dev`,
//! `test`...), which nobody ships. DOP011 and DOP012 harden that stage only.

use super::compose;
use crate::model::{Model, StageModel};
use crate::passes::PassContext;

/// Stage names of development or test stages, which are not shipped.
pub const DEV_STAGES: &[&str] = &[
    "dev",
    "dev-envs",
    "devel",
    "develop",
    "development",
    "debug",
    "test",
    "tests",
    "testing",
    "ci",
];

/// The stage that runs, and what compose says of it.
pub struct Shipped<'m> {
    pub stage: &'m StageModel,
    /// A compose service that builds this context defines a `healthcheck:`.
    pub compose_healthcheck: bool,
    /// A compose service that builds this context replaces the image's
    /// command: `compose.yaml: service web sets `command:``, for messages.
    pub compose_override: Option<String>,
}

/// True for a stage named like a development or test stage.
pub fn is_dev_stage(stage: &StageModel) -> bool {
    stage
        .name
        .as_deref()
        .is_some_and(|n| DEV_STAGES.contains(&n.to_ascii_lowercase().as_str()))
}

/// The stage that runs (see the module docs); `None` when that is a
/// development stage or the compose `target:` names no stage of the file.
pub fn stage<'m>(ctx: &PassContext, model: &'m Model) -> Option<Shipped<'m>> {
    let services = ctx
        .build_context
        .map(compose::services_building)
        .unwrap_or_default();
    let compose_healthcheck = services.iter().any(|s| s.has_healthcheck);
    let target = services.iter().find_map(|s| s.target.as_deref());
    let compose_override = services
        .iter()
        .find_map(|s| Some(format!("{} sets `{}:`", s.source, s.overrides?)));
    let stage = match target {
        Some(t) => model
            .stages
            .iter()
            .find(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(t)))?,
        None => model.final_stage()?,
    };
    if target.is_none() && is_dev_stage(stage) {
        return None;
    }
    Some(Shipped {
        stage,
        compose_healthcheck,
        compose_override,
    })
}
