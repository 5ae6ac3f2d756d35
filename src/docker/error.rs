//! Typed errors of the engine side of dopt.
//!
//! A failed *optimized* build is not an error: it is a result, and the report says
//! so. These errors are for the cases where no meaningful comparison exists.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DockerError {
    /// No engine answered. The message says where we looked and how to start one,
    /// because the usual cause is simply that the daemon is not running.
    #[error(
        "no Docker engine answered at {looked_at} ({source_of_address}): {cause}\n\
         Start one with `sudo systemctl start docker` (or run `dockerd` as root), \
         or set DOCKER_HOST to a running engine.\n\
         `dopt suggest` and `dopt apply` work without an engine; only building, \
         verifying and measuring need one."
    )]
    NoEngine {
        looked_at: String,
        source_of_address: String,
        cause: String,
    },

    /// The original Dockerfile does not build: there is nothing to compare against.
    #[error(
        "the original Dockerfile failed to build ({builder}), so there is nothing to compare; \
         last lines of the build log:\n{log_tail}"
    )]
    OriginalBuildFailed {
        builder: String,
        log_tail: String,
        /// The complete build log, for callers that want to show all of it.
        full_log: String,
    },

    /// The build context could not be read or packed.
    #[error("could not pack the build context {dir}: {cause}")]
    Context { dir: String, cause: String },

    /// Any other engine API failure (inspect, create, start...).
    #[error("Docker engine API call `{call}` failed: {source}")]
    Api {
        call: &'static str,
        #[source]
        source: bollard::errors::Error,
    },

    /// Ctrl-C (SIGINT) arrived during the comparison; what dopt had created was
    /// removed before this was returned.
    #[error("interrupted (Ctrl-C); the images and containers dopt had created were removed")]
    Interrupted,

    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    #[error("could not start the async runtime: {0}")]
    Runtime(String),
}

impl DockerError {
    pub(crate) fn api(call: &'static str) -> impl FnOnce(bollard::errors::Error) -> DockerError {
        move |source| DockerError::Api { call, source }
    }
}
