//! RADIUS protocol (RFC 2865, 2866, 2869, 5176): packets, dictionaries, authenticators,
//! PAP/CHAP/MS-CHAP, an async client and a server loop. Knows nothing of ISPs.
