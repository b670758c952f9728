//! MikroTik RouterOS binary API: word/sentence codec, async client over TCP and TLS, typed
//! menu helpers and a simulated router. Knows nothing of ISPs.
