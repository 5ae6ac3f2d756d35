//! Evidence from the build context: facts about the app that the Dockerfile
//! alone does not say (which port its server listens on, which routes answer).

pub mod compose;
pub(crate) mod generated;
pub(crate) mod grpc;
pub mod ports;
pub mod routes;
pub mod runtime;
pub mod shipped;
