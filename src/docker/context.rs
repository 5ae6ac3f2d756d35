//! Build context: walking, `.dockerignore` filtering and tar packing (work in progress).
