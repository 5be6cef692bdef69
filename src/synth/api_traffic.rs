//! Labelled API traffic: HTTP/1.1 calls to seven APIs modelled on real
//! public API path styles (GitHub REST, Stripe, Spotify Web API,
//! Kubernetes, Swagger petstore, an internal e-commerce API on two
//! regional hosts, Slack Web API), with the true endpoint template of every
//! call, the endpoint inventory, and the OpenAPI document each organisation
//! would have. It measures endpoint templating (precision/recall/F1 of the
//! discovered templates) and shadow/zombie detection.
//!
//! [`write_api_traffic`] writes into a directory:
//! - `api-traffic.pcap`: Ethernet TCP conversations (IPv4, a few IPv6),
//!   plaintext HTTP/1.1 on ports 80, 8080 and 443, one to ten requests per
//!   keep-alive connection, connections interleaved in time.
//! - `api-traffic.labels.json`: `calls` (one per request, ordered by the
//!   connection's first packet then by request, which is the order a parser
//!   reports them; `flow_index` numbers connections in that order),
//!   `endpoints` (one per host, method and template called), `spec_only`
//!   (documented operations never called) and `apis`.
//! - `specs/<api>.json`: OpenAPI 3.0.3, one per API: its servers, every
//!   documented operation, `deprecated: true` where set, undocumented
//!   operations left out.
//!
//! Ground truth:
//! - A call's `template` is the catalogue template it was generated from.
//!   Placeholder names are the API's own; only structure matters
//!   ([`path_matches_template`]: a `{...}` segment matches any segment).
//! - Every generated path matches its own template and no other template of
//!   its API: a value equal to a literal sibling (`search` for
//!   `/v1/customers/{customer}`, `me` for `/api/v2/users/{userId}`) is never
//!   drawn.
//! - Shadow endpoint: `documented: false` (absent from the spec). Zombie
//!   endpoint: `deprecated: true` in the spec and still called.
//! - APIs with a `base_path` (Spotify `/v1`, petstore `/v2`) put it in the
//!   spec's server URL and write paths relative to it, as their real
//!   documents do; templates in the labels are always full paths.
//!
//! Hard cases on purpose: parameters with 2 to 6 distinct values
//! (Kubernetes namespaces, Spotify `/v1/me/top/{type}`, branches, petstore
//! order ids 1..10, warehouses), word-like values (handles, repository and
//! category names, k8s object names), literal siblings of parameters,
//! positions with many literal siblings (`/repos/{owner}/{repo}/issues`,
//! `.../pulls`, ...; Slack's all-literal `/api/chat.postMessage` family),
//! nested parameters, versioned prefixes, shared paths on two hosts, and a
//! skewed (Zipf-like) popularity of endpoints and of values, so that some
//! endpoints are called only once or twice.
//!
//! Guarantees: the output is a function of [`ApiTrafficOptions`] only (all
//! randomness from [`SplitMix64`], no clock, no hash-map iteration order),
//! the first packet is at [`EPOCH_US`], frames carry correct checksums and
//! consistent sequence numbers, and every request gets a complete response
//! with a `Content-Length` (or none for 204).

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::pcap::{
    PcapWriter, DEFAULT_SNAPLEN, LINKTYPE_ETHERNET, PCAP_FILE_HEADER_LEN, PCAP_RECORD_HEADER_LEN,
};
use super::rng::SplitMix64;
use super::scenario::normalize_host;
use super::tcp::{Conversation, FrameStyle, Side};
use super::{SynthError, EPOCH_SECS, EPOCH_US};

/// Capture file name inside the output directory.
pub const PCAP_NAME: &str = "api-traffic.pcap";
/// Labels file name inside the output directory.
pub const LABELS_NAME: &str = "api-traffic.labels.json";
/// Directory (inside the output directory) of the OpenAPI documents.
pub const SPECS_DIR: &str = "specs";
/// Default number of calls.
pub const DEFAULT_CALLS: usize = 3000;
/// Default seed.
pub const DEFAULT_SEED: u64 = 20_260_101;
/// Largest accepted number of calls.
pub const MAX_CALLS: usize = 500_000;

// ------------------------------------------------------------ catalogue

/// How the values of a path parameter look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Decimal integer in `lo..=hi`.
    Int {
        /// Smallest value.
        lo: u64,
        /// Largest value.
        hi: u64,
    },
    /// UUID version 4.
    Uuid,
    /// MongoDB ObjectId: 24 lowercase hex digits, the first 8 a timestamp.
    ObjectId,
    /// `len` lowercase hex digits (git commit 40, gist id 32).
    Hex {
        /// Number of digits.
        len: usize,
    },
    /// `len` base62 characters (Spotify ids: 22).
    Base62 {
        /// Number of characters.
        len: usize,
    },
    /// Stripe id: `prefix` + 14 base62 (`cus_NffrFeUfNV2Hib`) or, when
    /// `long`, a version digit, 5 characters, the account's 10 and 8 more
    /// (`ch_3MmlLrLkdIwHu7ix0snN0B15`).
    Stripe {
        /// Object prefix including the underscore.
        prefix: &'static str,
        /// Long form carrying the account fragment.
        long: bool,
    },
    /// A handle from [`HANDLES`] (`octocat`, `jane-doe`, `dev_ops42`).
    Handle,
    /// A GitHub organisation from [`ORGS`].
    Org,
    /// A repository name from [`REPOS`].
    Repo,
    /// One of a fixed list of words.
    Words(&'static [&'static str]),
    /// Kubernetes object name: an application name plus `suffix`.
    K8sApp {
        /// Appended to the application name (`-config`).
        suffix: &'static str,
    },
    /// Pod name: application, replica-set hash, 5-character suffix.
    K8sPod,
    /// Node name (EKS or GKE style).
    K8sNode,
    /// Job created by a CronJob: application plus scheduled minute.
    K8sJob,
    /// Calendar date `YYYY-MM-DD` (2025-07-01 .. 2026-01-31).
    Date,
    /// Month `YYYY-MM`.
    Month,
    /// E-mail address (`jane.doe@example.com`).
    Email,
    /// Product SKU (`TNT-2P-GRN-014`).
    Sku,
    /// Shop handle (`nordic-knits`).
    ShopSlug,
    /// Document number `PREFIX-YYYY-NNNNNN`.
    DocNumber {
        /// Prefix (`INV`).
        prefix: &'static str,
    },
    /// Spotify user id: a handle, 10 digits, or 28 base36 characters.
    SpotifyUser,
}

/// Values of one path parameter of an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamDef {
    /// Placeholder name as in the templates.
    pub name: &'static str,
    /// Literal segment right before the placeholder that selects this
    /// definition (Kubernetes `{name}` after `pods` or `nodes`); empty:
    /// any.
    pub after: &'static str,
    /// Value shape.
    pub kind: ValueKind,
    /// Number of distinct values the capture draws from (with a Zipf-like
    /// skew, so fewer may appear).
    pub pool: usize,
}

/// One operation of an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// HTTP method.
    pub method: &'static str,
    /// Full path template (`/repos/{owner}/{repo}/issues/{issueNumber}`).
    pub template: &'static str,
    /// Marked `deprecated: true` in the spec.
    pub deprecated: bool,
    /// In the spec (`false`: a shadow endpoint when called).
    pub documented: bool,
    /// Called in the traffic (`false`: only in the spec).
    pub called: bool,
}

/// Who calls an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Private addresses only (10.x, 192.168.x).
    Internal,
    /// Private and public addresses.
    Mixed,
}

/// Request/response conventions of an API family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiStyle {
    /// GitHub REST v3.
    GitHub,
    /// Stripe (form-encoded requests, `object` fields, lists).
    Stripe,
    /// Spotify Web API.
    Spotify,
    /// Kubernetes API server.
    Kubernetes,
    /// Swagger petstore v2.
    Petstore,
    /// Internal e-commerce REST API.
    Shop,
    /// Slack Web API (RPC-style `family.method` paths).
    Slack,
}

/// One host serving an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostDef {
    /// Host name (the Host header adds `:port` unless 80 or 443).
    pub host: &'static str,
    /// Server TCP port (443 carries plaintext HTTP here).
    pub port: u16,
    /// Server IPv4 address.
    pub ipv4: Ipv4Addr,
    /// Server IPv6 address, if IPv6 clients may use it.
    pub ipv6: Option<Ipv6Addr>,
    /// Relative share of the API's calls.
    pub share: u64,
}

/// One API of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiDef {
    /// Short name, also the spec file stem.
    pub name: &'static str,
    /// Title for the spec.
    pub title: &'static str,
    /// `info.version` of the spec.
    pub version: &'static str,
    /// Conventions.
    pub style: ApiStyle,
    /// Hosts serving the same paths.
    pub hosts: &'static [HostDef],
    /// Prefix that the spec puts in the server URL (empty: none).
    pub base_path: &'static str,
    /// Who calls it.
    pub audience: Audience,
    /// Relative share of the calls beyond the first one per operation.
    pub weight: u64,
    /// Path parameter definitions.
    pub params: &'static [ParamDef],
    /// Operations.
    pub operations: &'static [Operation],
}

const fn op(method: &'static str, template: &'static str) -> Operation {
    Operation {
        method,
        template,
        deprecated: false,
        documented: true,
        called: true,
    }
}

/// Deprecated in the spec and still called.
const fn zombie(method: &'static str, template: &'static str) -> Operation {
    Operation {
        deprecated: true,
        ..op(method, template)
    }
}

/// Called but not in the spec.
const fn shadow(method: &'static str, template: &'static str) -> Operation {
    Operation {
        documented: false,
        ..op(method, template)
    }
}

/// In the spec, never called.
const fn spec_only(method: &'static str, template: &'static str) -> Operation {
    Operation {
        called: false,
        ..op(method, template)
    }
}

/// Deprecated in the spec and no longer called.
const fn retired(method: &'static str, template: &'static str) -> Operation {
    Operation {
        deprecated: true,
        called: false,
        ..op(method, template)
    }
}

const fn p(name: &'static str, kind: ValueKind, pool: usize) -> ParamDef {
    ParamDef {
        name,
        after: "",
        kind,
        pool,
    }
}

const fn pa(name: &'static str, after: &'static str, kind: ValueKind, pool: usize) -> ParamDef {
    ParamDef {
        name,
        after,
        kind,
        pool,
    }
}

const fn host(host: &'static str, port: u16, ipv4: Ipv4Addr, share: u64) -> HostDef {
    HostDef {
        host,
        port,
        ipv4,
        ipv6: None,
        share,
    }
}

const fn host6(
    host: &'static str,
    port: u16,
    ipv4: Ipv4Addr,
    ipv6: Ipv6Addr,
    share: u64,
) -> HostDef {
    HostDef {
        host,
        port,
        ipv4,
        ipv6: Some(ipv6),
        share,
    }
}

const BRANCHES: &[&str] = &[
    "main",
    "master",
    "develop",
    "release-2.4",
    "gh-pages",
    "next",
];
const TEAMS: &[&str] = &[
    "core",
    "platform-eng",
    "security",
    "frontend",
    "sre",
    "docs",
    "maintainers",
    "triage",
    "release-managers",
    "infra",
    "design-systems",
    "data-platform",
    "mobile",
    "qa",
];
const NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "payments",
    "monitoring",
    "ingress-nginx",
    "cert-manager",
];
const COUNTRIES: &[&str] = &["US", "DE", "GB", "FR", "JP", "CA", "NL"];
const TOP_TYPES: &[&str] = &["artists", "tracks"];
const VIEWS: &[&str] = &[
    "desktop-home",
    "made-for-x",
    "recently-played",
    "home-shortcuts",
];
const WAREHOUSES: &[&str] = &["fra1", "ams3", "iad2", "sfo1", "sin1"];
const CACHE_KEYS: &[&str] = &["catalog-v3", "pricing-eu", "session-index", "feature-flags"];
const PROMO_CODES: &[&str] = &["WELCOME10", "BLACKFRIDAY25", "FREESHIP", "SPRING-SALE"];
/// Spotify browse categories (words and a few opaque ids, as the real API mixes them).
pub const CATEGORIES: &[&str] = &[
    "toplists",
    "pop",
    "hiphop",
    "mood",
    "workout",
    "chill",
    "focus",
    "sleep",
    "party",
    "rock",
    "indie_alt",
    "edm_dance",
    "rnb",
    "latin",
    "jazz",
    "classical",
    "country",
    "kpop",
    "decades",
    "at_home",
    "romance",
    "gaming",
    "wellness",
    "metal",
    "soul",
    "blues",
    "afro",
    "punk",
    "funk",
    "reggae",
    "anime",
    "instrumental",
    "travel",
    "cooking",
    "summer",
    "0JQ5DAqbMKFQ00XGBls6ym",
    "0JQ5DAqbMKFEC4WFtoNRpw",
    "0JQ5DAqbMKFz6FAsUtgAab",
    "0JQ5DAqbMKFDXXwE9BDJAr",
];

const GITHUB_PARAMS: &[ParamDef] = &[
    p("owner", ValueKind::Handle, 220),
    p("repo", ValueKind::Repo, 80),
    p("username", ValueKind::Handle, 260),
    p("org", ValueKind::Org, 45),
    p("issueNumber", ValueKind::Int { lo: 1, hi: 60_000 }, 300),
    p("pullNumber", ValueKind::Int { lo: 1, hi: 40_000 }, 250),
    p("ref", ValueKind::Hex { len: 40 }, 200),
    p("branch", ValueKind::Words(BRANCHES), 6),
    p(
        "releaseId",
        ValueKind::Int {
            lo: 10_000_000,
            hi: 199_999_999,
        },
        60,
    ),
    p(
        "runId",
        ValueKind::Int {
            lo: 5_000_000_000,
            hi: 12_999_999_999,
        },
        150,
    ),
    p("teamSlug", ValueKind::Words(TEAMS), 12),
    p(
        "teamId",
        ValueKind::Int {
            lo: 1_000_000,
            hi: 9_999_999,
        },
        8,
    ),
    p("gistId", ValueKind::Hex { len: 32 }, 40),
];

const GITHUB_OPS: &[Operation] = &[
    op("GET", "/user"),
    op("PATCH", "/user"),
    op("GET", "/user/repos"),
    op("GET", "/users/{username}"),
    op("GET", "/users/{username}/repos"),
    op("GET", "/users/{username}/events/public"),
    op("GET", "/orgs/{org}"),
    op("GET", "/orgs/{org}/repos"),
    op("GET", "/orgs/{org}/members"),
    op("GET", "/orgs/{org}/members/{username}"),
    op("GET", "/orgs/{org}/teams"),
    op("GET", "/orgs/{org}/teams/{teamSlug}/members"),
    op("GET", "/repos/{owner}/{repo}"),
    op("GET", "/repos/{owner}/{repo}/issues"),
    op("POST", "/repos/{owner}/{repo}/issues"),
    op("GET", "/repos/{owner}/{repo}/issues/{issueNumber}"),
    op("PATCH", "/repos/{owner}/{repo}/issues/{issueNumber}"),
    op("GET", "/repos/{owner}/{repo}/issues/{issueNumber}/comments"),
    op(
        "POST",
        "/repos/{owner}/{repo}/issues/{issueNumber}/comments",
    ),
    op("GET", "/repos/{owner}/{repo}/pulls"),
    op("GET", "/repos/{owner}/{repo}/pulls/{pullNumber}"),
    op("GET", "/repos/{owner}/{repo}/pulls/{pullNumber}/files"),
    op("PUT", "/repos/{owner}/{repo}/pulls/{pullNumber}/merge"),
    op("GET", "/repos/{owner}/{repo}/commits"),
    op("GET", "/repos/{owner}/{repo}/commits/{ref}"),
    op("GET", "/repos/{owner}/{repo}/branches"),
    op("GET", "/repos/{owner}/{repo}/branches/{branch}"),
    op("GET", "/repos/{owner}/{repo}/releases/latest"),
    op("GET", "/repos/{owner}/{repo}/releases/{releaseId}"),
    op("GET", "/repos/{owner}/{repo}/contributors"),
    op("GET", "/repos/{owner}/{repo}/actions/runs/{runId}"),
    op("GET", "/repos/{owner}/{repo}/actions/runs/{runId}/jobs"),
    op("GET", "/search/repositories"),
    op("GET", "/rate_limit"),
    op("GET", "/gists/{gistId}"),
    zombie("GET", "/teams/{teamId}"),
    retired("GET", "/teams/{teamId}/members"),
    spec_only("POST", "/repos/{owner}/{repo}/dispatches"),
    shadow("GET", "/repos/{owner}/{repo}/traffic/views"),
    shadow("POST", "/_private/browser/stats"),
];

const STRIPE_PARAMS: &[ParamDef] = &[
    p(
        "customer",
        ValueKind::Stripe {
            prefix: "cus_",
            long: false,
        },
        250,
    ),
    pa(
        "id",
        "sources",
        ValueKind::Stripe {
            prefix: "card_",
            long: true,
        },
        30,
    ),
    p(
        "charge",
        ValueKind::Stripe {
            prefix: "ch_",
            long: true,
        },
        200,
    ),
    p(
        "refund",
        ValueKind::Stripe {
            prefix: "re_",
            long: true,
        },
        60,
    ),
    p(
        "intent",
        ValueKind::Stripe {
            prefix: "pi_",
            long: true,
        },
        200,
    ),
    p(
        "subscriptionExposedId",
        ValueKind::Stripe {
            prefix: "sub_",
            long: true,
        },
        80,
    ),
    p(
        "invoice",
        ValueKind::Stripe {
            prefix: "in_",
            long: true,
        },
        90,
    ),
    pa(
        "id",
        "products",
        ValueKind::Stripe {
            prefix: "prod_",
            long: false,
        },
        25,
    ),
    p(
        "price",
        ValueKind::Stripe {
            prefix: "price_",
            long: true,
        },
        30,
    ),
    pa(
        "id",
        "events",
        ValueKind::Stripe {
            prefix: "evt_",
            long: true,
        },
        120,
    ),
    pa(
        "id",
        "recipients",
        ValueKind::Stripe {
            prefix: "rp_",
            long: false,
        },
        10,
    ),
    p("country", ValueKind::Words(COUNTRIES), 5),
    p(
        "session",
        ValueKind::Stripe {
            prefix: "cs_test_",
            long: true,
        },
        40,
    ),
];

const STRIPE_OPS: &[Operation] = &[
    op("GET", "/v1/customers"),
    op("POST", "/v1/customers"),
    op("GET", "/v1/customers/search"),
    op("GET", "/v1/customers/{customer}"),
    op("POST", "/v1/customers/{customer}"),
    op("DELETE", "/v1/customers/{customer}"),
    op("GET", "/v1/customers/{customer}/payment_methods"),
    zombie("GET", "/v1/customers/{customer}/sources/{id}"),
    op("GET", "/v1/charges"),
    op("GET", "/v1/charges/{charge}"),
    op("POST", "/v1/charges/{charge}/capture"),
    op("GET", "/v1/charges/{charge}/refunds"),
    zombie("POST", "/v1/charges/{charge}/refunds"),
    op("POST", "/v1/refunds"),
    op("GET", "/v1/refunds/{refund}"),
    op("POST", "/v1/payment_intents"),
    op("GET", "/v1/payment_intents/{intent}"),
    op("POST", "/v1/payment_intents/{intent}/confirm"),
    op("POST", "/v1/payment_intents/{intent}/cancel"),
    op("GET", "/v1/subscriptions/{subscriptionExposedId}"),
    op("DELETE", "/v1/subscriptions/{subscriptionExposedId}"),
    zombie("GET", "/v1/invoices/upcoming"),
    op("GET", "/v1/invoices/{invoice}"),
    op("POST", "/v1/invoices/{invoice}/pay"),
    op("GET", "/v1/products/{id}"),
    op("GET", "/v1/prices/{price}"),
    op("GET", "/v1/balance"),
    op("GET", "/v1/events/{id}"),
    op("GET", "/v1/country_specs/{country}"),
    retired("GET", "/v1/recipients/{id}"),
    spec_only("POST", "/v1/customers/{customer}/tax_ids"),
    shadow(
        "POST",
        "/v1/payment_intents/{intent}/increment_authorization",
    ),
    shadow("GET", "/v1/customers/{customer}/balance_transactions"),
    shadow("GET", "/v1/checkout/sessions/{session}"),
];

const SPOTIFY_PARAMS: &[ParamDef] = &[
    p("type", ValueKind::Words(TOP_TYPES), 2),
    p("userId", ValueKind::SpotifyUser, 120),
    p("playlistId", ValueKind::Base62 { len: 22 }, 120),
    pa("id", "artists", ValueKind::Base62 { len: 22 }, 150),
    pa("id", "albums", ValueKind::Base62 { len: 22 }, 120),
    pa("id", "tracks", ValueKind::Base62 { len: 22 }, 250),
    pa("id", "audio-features", ValueKind::Base62 { len: 22 }, 80),
    p("categoryId", ValueKind::Words(CATEGORIES), 25),
    p("viewId", ValueKind::Words(VIEWS), 4),
];

const SPOTIFY_OPS: &[Operation] = &[
    op("GET", "/v1/me"),
    op("GET", "/v1/me/playlists"),
    op("GET", "/v1/me/tracks"),
    op("PUT", "/v1/me/tracks"),
    op("GET", "/v1/me/player/currently-playing"),
    op("PUT", "/v1/me/player/play"),
    op("GET", "/v1/me/top/{type}"),
    op("GET", "/v1/users/{userId}"),
    op("GET", "/v1/users/{userId}/playlists"),
    op("POST", "/v1/users/{userId}/playlists"),
    op("GET", "/v1/playlists/{playlistId}"),
    op("GET", "/v1/playlists/{playlistId}/tracks"),
    op("POST", "/v1/playlists/{playlistId}/tracks"),
    op("GET", "/v1/artists/{id}"),
    op("GET", "/v1/artists/{id}/top-tracks"),
    op("GET", "/v1/artists/{id}/albums"),
    zombie("GET", "/v1/artists/{id}/related-artists"),
    op("GET", "/v1/albums/{id}"),
    op("GET", "/v1/albums/{id}/tracks"),
    op("GET", "/v1/tracks/{id}"),
    zombie("GET", "/v1/audio-features/{id}"),
    op("GET", "/v1/browse/categories"),
    op("GET", "/v1/browse/categories/{categoryId}"),
    retired("GET", "/v1/browse/categories/{categoryId}/playlists"),
    op("GET", "/v1/browse/new-releases"),
    zombie("GET", "/v1/browse/featured-playlists"),
    retired("GET", "/v1/recommendations"),
    op("GET", "/v1/search"),
    spec_only("GET", "/v1/markets"),
    shadow("GET", "/v1/views/{viewId}"),
    shadow("GET", "/v1/me/player/recently-played"),
];

const K8S_PARAMS: &[ParamDef] = &[
    p("namespace", ValueKind::Words(NAMESPACES), 5),
    pa("name", "pods", ValueKind::K8sPod, 120),
    pa("name", "services", ValueKind::K8sApp { suffix: "" }, 18),
    pa(
        "name",
        "configmaps",
        ValueKind::K8sApp { suffix: "-config" },
        15,
    ),
    pa(
        "name",
        "secrets",
        ValueKind::K8sApp {
            suffix: "-credentials",
        },
        12,
    ),
    pa("name", "nodes", ValueKind::K8sNode, 9),
    pa("name", "deployments", ValueKind::K8sApp { suffix: "" }, 18),
    pa("name", "jobs", ValueKind::K8sJob, 40),
    pa("name", "leases", ValueKind::K8sApp { suffix: "" }, 10),
    pa("name", "ingresses", ValueKind::K8sApp { suffix: "" }, 10),
    pa(
        "name",
        "poddisruptionbudgets",
        ValueKind::K8sApp { suffix: "-pdb" },
        8,
    ),
];

const K8S_OPS: &[Operation] = &[
    op("GET", "/api/v1/namespaces"),
    op("GET", "/api/v1/namespaces/{namespace}"),
    op("GET", "/api/v1/namespaces/{namespace}/pods"),
    op("GET", "/api/v1/namespaces/{namespace}/pods/{name}"),
    op("DELETE", "/api/v1/namespaces/{namespace}/pods/{name}"),
    op("GET", "/api/v1/namespaces/{namespace}/pods/{name}/log"),
    op("GET", "/api/v1/namespaces/{namespace}/services"),
    op("GET", "/api/v1/namespaces/{namespace}/services/{name}"),
    op("GET", "/api/v1/namespaces/{namespace}/configmaps/{name}"),
    op("PUT", "/api/v1/namespaces/{namespace}/configmaps/{name}"),
    op("GET", "/api/v1/namespaces/{namespace}/secrets/{name}"),
    op("GET", "/api/v1/namespaces/{namespace}/endpoints"),
    op("POST", "/api/v1/namespaces/{namespace}/events"),
    op("GET", "/api/v1/nodes"),
    op("GET", "/api/v1/nodes/{name}"),
    op("GET", "/apis/apps/v1/namespaces/{namespace}/deployments"),
    op(
        "GET",
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
    ),
    op(
        "PATCH",
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
    ),
    op(
        "GET",
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
    ),
    op(
        "PUT",
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
    ),
    op("GET", "/apis/batch/v1/namespaces/{namespace}/jobs/{name}"),
    op(
        "GET",
        "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}",
    ),
    op(
        "PUT",
        "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}",
    ),
    op(
        "GET",
        "/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}",
    ),
    zombie(
        "GET",
        "/apis/policy/v1beta1/namespaces/{namespace}/poddisruptionbudgets/{name}",
    ),
    retired(
        "GET",
        "/apis/extensions/v1beta1/namespaces/{namespace}/ingresses",
    ),
    spec_only("GET", "/version"),
    shadow("GET", "/metrics"),
    shadow("GET", "/readyz"),
    shadow(
        "GET",
        "/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods",
    ),
];

const PETSTORE_PARAMS: &[ParamDef] = &[
    p("petId", ValueKind::Int { lo: 1, hi: 99_999 }, 180),
    p("orderId", ValueKind::Int { lo: 1, hi: 10 }, 6),
    p("username", ValueKind::Handle, 60),
];

const PETSTORE_OPS: &[Operation] = &[
    op("POST", "/v2/pet"),
    op("PUT", "/v2/pet"),
    op("GET", "/v2/pet/findByStatus"),
    zombie("GET", "/v2/pet/findByTags"),
    op("GET", "/v2/pet/{petId}"),
    op("POST", "/v2/pet/{petId}"),
    op("DELETE", "/v2/pet/{petId}"),
    op("POST", "/v2/pet/{petId}/uploadImage"),
    op("GET", "/v2/store/inventory"),
    op("POST", "/v2/store/order"),
    op("GET", "/v2/store/order/{orderId}"),
    op("DELETE", "/v2/store/order/{orderId}"),
    op("POST", "/v2/user"),
    op("POST", "/v2/user/createWithArray"),
    spec_only("POST", "/v2/user/createWithList"),
    op("GET", "/v2/user/login"),
    op("GET", "/v2/user/logout"),
    op("GET", "/v2/user/{username}"),
    op("PUT", "/v2/user/{username}"),
    op("DELETE", "/v2/user/{username}"),
    shadow("GET", "/v2/pet/{petId}/vaccinations"),
    shadow("GET", "/v2/health"),
];

const SHOP_PARAMS: &[ParamDef] = &[
    p("userId", ValueKind::Uuid, 300),
    p("addressId", ValueKind::Int { lo: 1, hi: 99_999 }, 60),
    p("email", ValueKind::Email, 80),
    p("customerId", ValueKind::ObjectId, 150),
    p("shopId", ValueKind::ShopSlug, 40),
    p(
        "orderId",
        ValueKind::Int {
            lo: 1_000_000,
            hi: 9_999_999,
        },
        260,
    ),
    pa("itemId", "items", ValueKind::Int { lo: 1, hi: 12 }, 8),
    p("sku", ValueKind::Sku, 120),
    p("warehouseId", ValueKind::Words(WAREHOUSES), 5),
    p("cartId", ValueKind::Uuid, 200),
    p("date", ValueKind::Date, 60),
    p("month", ValueKind::Month, 4),
    p("invoiceId", ValueKind::DocNumber { prefix: "INV" }, 100),
    p("code", ValueKind::Words(PROMO_CODES), 4),
    p("key", ValueKind::Words(CACHE_KEYS), 4),
];

const SHOP_OPS: &[Operation] = &[
    op("GET", "/api/v2/users/me"),
    op("PATCH", "/api/v2/users/me"),
    op("GET", "/api/v2/users/{userId}"),
    op("GET", "/api/v2/users/{userId}/addresses"),
    op("POST", "/api/v2/users/{userId}/addresses"),
    op("DELETE", "/api/v2/users/{userId}/addresses/{addressId}"),
    op("GET", "/api/v2/customers/by-email/{email}"),
    op("GET", "/api/v2/customers/{customerId}"),
    op("GET", "/api/v2/customers/{customerId}/orders"),
    op("GET", "/api/v2/shops/{shopId}"),
    op("GET", "/api/v2/shops/{shopId}/orders"),
    op("POST", "/api/v2/shops/{shopId}/orders"),
    op("GET", "/api/v2/shops/{shopId}/orders/{orderId}"),
    op("PATCH", "/api/v2/shops/{shopId}/orders/{orderId}"),
    op("GET", "/api/v2/shops/{shopId}/orders/{orderId}/items"),
    op(
        "GET",
        "/api/v2/shops/{shopId}/orders/{orderId}/items/{itemId}",
    ),
    op(
        "DELETE",
        "/api/v2/shops/{shopId}/orders/{orderId}/items/{itemId}",
    ),
    op("POST", "/api/v2/shops/{shopId}/orders/{orderId}/refunds"),
    op("GET", "/api/v2/products"),
    op("GET", "/api/v2/products/{sku}"),
    op("GET", "/api/v2/products/{sku}/reviews"),
    op("POST", "/api/v2/products/{sku}/reviews"),
    op("GET", "/api/v2/products/{sku}/inventory/{warehouseId}"),
    op("GET", "/api/v2/carts/{cartId}"),
    op("POST", "/api/v2/carts/{cartId}/items"),
    op("DELETE", "/api/v2/carts/{cartId}/items/{itemId}"),
    op("POST", "/api/v2/carts/{cartId}/checkout"),
    op("GET", "/api/v2/reports/daily/{date}"),
    op("GET", "/api/v2/reports/monthly/{month}"),
    op("GET", "/api/v2/invoices/{invoiceId}/pdf"),
    op("POST", "/api/v2/auth/login"),
    op("POST", "/api/v2/auth/refresh"),
    zombie("GET", "/api/v1/orders/{orderId}"),
    zombie("GET", "/api/v1/users/{userId}"),
    retired("GET", "/api/v1/products/{sku}"),
    spec_only("GET", "/api/v2/promotions/{code}"),
    shadow("GET", "/internal/healthz"),
    shadow("GET", "/internal/metrics"),
    shadow("POST", "/api/v2/admin/users/{userId}/impersonate"),
    shadow("GET", "/api/v2/debug/cache/{key}"),
];

const SLACK_OPS: &[Operation] = &[
    op("POST", "/api/chat.postMessage"),
    op("POST", "/api/chat.update"),
    op("POST", "/api/chat.delete"),
    op("GET", "/api/conversations.list"),
    op("GET", "/api/conversations.history"),
    op("GET", "/api/conversations.info"),
    op("GET", "/api/conversations.members"),
    op("POST", "/api/conversations.join"),
    op("GET", "/api/users.info"),
    op("GET", "/api/users.list"),
    op("GET", "/api/users.lookupByEmail"),
    op("POST", "/api/reactions.add"),
    op("POST", "/api/auth.test"),
    zombie("POST", "/api/files.upload"),
    op("POST", "/api/files.getUploadURLExternal"),
    op("GET", "/api/team.info"),
    op("GET", "/api/emoji.list"),
    retired("GET", "/api/channels.history"),
    spec_only("POST", "/api/pins.add"),
    shadow("POST", "/api/client.counts"),
    shadow("GET", "/api/users.prefs.get"),
];

const CATALOGUE: &[ApiDef] = &[
    ApiDef {
        name: "github",
        title: "GitHub v3 REST API",
        version: "1.1.4",
        style: ApiStyle::GitHub,
        hosts: &[host6(
            "api.github.com",
            443,
            Ipv4Addr::new(192, 0, 2, 10),
            Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x10),
            1,
        )],
        base_path: "",
        audience: Audience::Mixed,
        weight: 20,
        params: GITHUB_PARAMS,
        operations: GITHUB_OPS,
    },
    ApiDef {
        name: "stripe",
        title: "Stripe API",
        version: "2024-06-20",
        style: ApiStyle::Stripe,
        hosts: &[host("api.stripe.com", 443, Ipv4Addr::new(192, 0, 2, 20), 1)],
        base_path: "",
        audience: Audience::Mixed,
        weight: 14,
        params: STRIPE_PARAMS,
        operations: STRIPE_OPS,
    },
    ApiDef {
        name: "spotify",
        title: "Spotify Web API",
        version: "2024.11.27",
        style: ApiStyle::Spotify,
        hosts: &[host6(
            "api.spotify.com",
            80,
            Ipv4Addr::new(192, 0, 2, 30),
            Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x30),
            1,
        )],
        base_path: "/v1",
        audience: Audience::Mixed,
        weight: 14,
        params: SPOTIFY_PARAMS,
        operations: SPOTIFY_OPS,
    },
    ApiDef {
        name: "kubernetes",
        title: "Kubernetes",
        version: "v1.29.2",
        style: ApiStyle::Kubernetes,
        hosts: &[host(
            "kubernetes.default.svc",
            8080,
            Ipv4Addr::new(10, 96, 0, 1),
            1,
        )],
        base_path: "",
        audience: Audience::Internal,
        weight: 16,
        params: K8S_PARAMS,
        operations: K8S_OPS,
    },
    ApiDef {
        name: "petstore",
        title: "Swagger Petstore",
        version: "1.0.7",
        style: ApiStyle::Petstore,
        hosts: &[host(
            "petstore.swagger.io",
            80,
            Ipv4Addr::new(192, 0, 2, 40),
            1,
        )],
        base_path: "/v2",
        audience: Audience::Mixed,
        weight: 8,
        params: PETSTORE_PARAMS,
        operations: PETSTORE_OPS,
    },
    ApiDef {
        name: "shop",
        title: "Example Shop API",
        version: "2.14.0",
        style: ApiStyle::Shop,
        hosts: &[
            host6(
                "api.eu.example.com",
                80,
                Ipv4Addr::new(10, 20, 1, 10),
                Ipv6Addr::new(0x2001, 0xdb8, 0x20, 1, 0, 0, 0, 0x10),
                3,
            ),
            host("api.us.example.com", 8080, Ipv4Addr::new(10, 20, 2, 10), 2),
        ],
        base_path: "",
        audience: Audience::Mixed,
        weight: 20,
        params: SHOP_PARAMS,
        operations: SHOP_OPS,
    },
    ApiDef {
        name: "slack",
        title: "Slack Web API",
        version: "1.7.0",
        style: ApiStyle::Slack,
        hosts: &[host("slack.com", 443, Ipv4Addr::new(192, 0, 2, 50), 1)],
        base_path: "",
        audience: Audience::Mixed,
        weight: 8,
        params: &[],
        operations: SLACK_OPS,
    },
];

/// The API catalogue the generator draws from.
pub fn catalogue() -> &'static [ApiDef] {
    CATALOGUE
}

// ------------------------------------------------------------ word lists

/// Realistic user handles: well-known accounts, organisations and
/// ordinary names in the usual styles (`jane-doe`, `dev_ops42`, `jsmith1987`).
pub const HANDLES: &[&str] = &[
    "octocat",
    "torvalds",
    "gaearon",
    "sindresorhus",
    "tj",
    "defunkt",
    "mojombo",
    "pjhyett",
    "wycats",
    "dhh",
    "antirez",
    "yyx990803",
    "kentcdodds",
    "addyosmani",
    "paulirish",
    "jeresig",
    "fabpot",
    "taylorotwell",
    "mitsuhiko",
    "kennethreitz",
    "gvanrossum",
    "brettcannon",
    "ry",
    "isaacs",
    "substack",
    "mafintosh",
    "feross",
    "jashkenas",
    "rauchg",
    "shadcn",
    "ThePrimeagen",
    "BurntSushi",
    "dtolnay",
    "alexcrichton",
    "steveklabnik",
    "withoutboats",
    "nikomatsakis",
    "matklad",
    "fasterthanlime",
    "jonhoo",
    "bradfitz",
    "rsc",
    "robpike",
    "davecheney",
    "spf13",
    "mholt",
    "fatih",
    "jakevdp",
    "wesm",
    "fchollet",
    "karpathy",
    "soumith",
    "rasbt",
    "hadley",
    "jennybc",
    "ezyang",
    "lukeed",
    "developit",
    "jaredpalmer",
    "tannerlinsley",
    "sebmarkbage",
    "acdlite",
    "bvaughn",
    "sophiebits",
    "Rich-Harris",
    "evanw",
    "swyx",
    "leerob",
    "kdy1",
    "Brooooooklyn",
    "egoist",
    "antfu",
    "posva",
    "sokra",
    "TheLarkInn",
    "jakearchibald",
    "surma",
    "mathiasbynens",
    "wesbos",
    "cassidoo",
    "bdougie",
    "mislav",
    "holman",
    "technoweenie",
    "schacon",
    "peff",
    "gitster",
    "jlord",
    "kvz",
    "chriscoyier",
    "necolas",
    "mdo",
    "jdan",
    "kamranahmedse",
    "trekhleb",
    "donnemartin",
    "vinta",
    "jwasham",
    "sebastianbergmann",
    "nunomaduro",
    "freekmurze",
    "calebporzio",
    "adamwathan",
    "reinink",
    "bobuk",
    "umputun",
    "tpope",
    "junegunn",
    "folke",
    "tjdevries",
    "mitchellh",
    "armon",
    "jbeda",
    "thockin",
    "brendandburns",
    "kelseyhightower",
    "jessfraz",
    "justincormack",
    "crosbymichael",
    "shykes",
    "vbatts",
    "mrunalp",
    "cyphar",
    "AkihiroSuda",
    "tiangolo",
    "samuelcolvin",
    "pydanny",
    "audreyfeldroy",
    "jacobian",
    "adrianholovaty",
    "simonw",
    "carltongibson",
    "ambv",
    "Zac-HD",
    "asottile",
    "hynek",
    "glyph",
    "dabeaz",
    "raymondh",
    "ncoghlan",
    "tiran",
    "1st1",
    "jart",
    "lattner",
    "jckarter",
    "mxcl",
    "kylef",
    "JohnSundell",
    "twostraws",
    "onevcat",
    "kean",
    "jverkoey",
    "JakeWharton",
    "swankjesse",
    "square-bot",
    "romainguy",
    "chrisbanes",
    "gabrielittner",
    "elizarov",
    "qwwdfsad",
    "ilmari",
    "jhawkes",
    "boyter",
    "jane-doe",
    "john-smith",
    "dev_ops42",
    "alice",
    "bob",
    "carol-dev",
    "dave99",
    "eve-sec",
    "mallory",
    "trent",
    "peggy",
    "victor-h",
    "walter-w",
    "k-nakamura",
    "mfernandez",
    "lucas-oliveira",
    "priya-sharma",
    "wei-zhang",
    "yuki-tanaka",
    "olena-k",
    "ahmed-hassan",
    "fatima_z",
    "sven-nilsson",
    "ingrid-berg",
    "mateo_r",
    "chloe-martin",
    "noah-b",
    "emma_w",
    "liam-oconnor",
    "sofia-rossi",
    "arjun-mehta",
    "mei-lin",
    "diego-ramos",
    "anna-kowalski",
    "tomasz-n",
    "jsmith1987",
    "mgarcia",
    "pschmidt",
    "lmueller",
    "rkumar",
    "achen",
    "dkim",
    "jlee",
    "tnguyen",
    "hpatel",
    "codewithmike",
    "thedevdad",
    "rustacean42",
    "pixel-pusher",
    "null-pointer",
    "bytebandit",
    "nightowl-dev",
    "cloud-ninja",
    "ml-researcher",
    "data_wrangler",
    "frontend-fox",
    "gopher-gal",
    "py-wizard",
    "the-real-sam",
    "sam_dev",
    "samuel-k",
    "xXcoderXx",
    "n00bmaster69",
    "qa-bot",
    "ci-runner",
    "dependabot",
    "renovate-bot",
    "github-actions",
    "web-flow",
    "deploy-bot",
    "release-please",
    "mergify",
    "codecov-io",
    "snyk-bot",
    "allcontributors",
    "stale-bot",
    "k8s-ci-robot",
    "netlify-bot",
    "vercel-bot",
    "jenkins-ci",
    "buildkite-agent",
    "devops-dan",
    "secops-sara",
    "sre-sam",
    "infra-ian",
    "backend-bea",
    "mobile-max",
    "design-dana",
    "product-pat",
    "intern2025",
    "hackerman",
    "lambda-lover",
    "monad-man",
    "vim-enjoyer",
    "emacs-fan",
    "tabs-not-spaces",
    "segfault",
    "kernel-panic",
    "stack-smasher",
    "heap-hero",
    "async-await",
    "borrow-checker",
    "yak-shaver",
    "rubber-duck",
    "coffee-coder",
    "tea-and-tests",
    "mariadb-marie",
    "postgres-pete",
    "redis-rita",
    "kafka-kai",
    "elastic-eli",
    "grafana-gus",
    "jane.doe",
    "j.smith",
    "maria.garcia",
    "user1",
    "theUser",
    "johndoe",
    "testuser",
    "admin-ops",
    "svc-deploy",
    "svc-reporting",
    "svc-billing",
    "build-agent-07",
    "runner-east-2",
    "oleksandr-p",
    "bogdan-s",
    "ivana-h",
    "milan-j",
    "zeynep-a",
    "emre-k",
    "kwame-a",
    "ngozi-o",
    "thabo-m",
    "amara-n",
    "hiroshi-s",
    "sakura-i",
    "minjun-p",
    "jiwoo-c",
    "anh-tran",
    "linh-pham",
    "rahul-v",
    "ananya-r",
    "carlos-mx",
    "valentina-ar",
    "joao-br",
    "lucia-es",
    "pierre-fr",
    "camille-l",
    "lukas-de",
    "lena-h",
    "jan-nl",
    "femke-v",
    "erik-se",
    "astrid-n",
    "mikko-fi",
    "aino-k",
    "jakub-cz",
    "petra-s",
    "andras-hu",
    "ioana-ro",
    "nikos-gr",
    "eleni-p",
    "omer-il",
    "noa-l",
    "reza-ir",
    "sara-m",
    "ali-k",
    "layla-h",
    "dmitri-v",
    "natasha-r",
    "alexey-k",
    "wojtek-z",
    "kasia-w",
    "ben-au",
    "ella-nz",
    "jack-uk",
    "amelia-j",
    "oliver-t",
    "harper-q",
    "ethan_dev",
    "mia_codes",
    "zoe-writes-code",
    "leo-builds",
    "ava-ships",
    "finn-hacks",
    "iris-ux",
    "hugo-ml",
];

/// GitHub organisations.
pub const ORGS: &[&str] = &[
    "facebook",
    "google",
    "microsoft",
    "rust-lang",
    "kubernetes",
    "vercel",
    "apache",
    "mozilla",
    "nodejs",
    "python",
    "golang",
    "hashicorp",
    "aws",
    "Azure",
    "tensorflow",
    "pytorch",
    "huggingface",
    "openai",
    "netflix",
    "airbnb",
    "shopify",
    "stripe",
    "github",
    "twbs",
    "vuejs",
    "angular",
    "sveltejs",
    "denoland",
    "tokio-rs",
    "serde-rs",
    "docker",
    "grafana",
    "prometheus",
    "elastic",
    "redis",
    "nginx",
    "cloudflare",
    "hashicorp-forge",
    "acme-corp",
    "example-org",
    "payments-team",
    "platform-infra",
    "data-eng",
    "mobile-apps",
    "oss-tools",
    "neovim",
    "helix-editor",
    "astral-sh",
    "pallets",
    "django",
];

/// Repository names.
pub const REPOS: &[&str] = &[
    "linux",
    "react",
    "vue",
    "angular",
    "awesome-python",
    "awesome-go",
    "tensorflow",
    "pytorch",
    "kubernetes",
    "rust",
    "go",
    "node",
    "deno",
    "next.js",
    "django",
    "flask",
    "fastapi",
    "rails",
    "laravel",
    "spring-boot",
    "homebrew-core",
    "dotfiles",
    "vscode",
    "terraform",
    "ansible",
    "moby",
    "redis",
    "postgres",
    "sqlite",
    "nginx",
    "curl",
    "git",
    "ohmyzsh",
    "bootstrap",
    "jquery",
    "lodash",
    "express",
    "webpack",
    "vite",
    "esbuild",
    "swc",
    "tailwindcss",
    "svelte",
    "ripgrep",
    "bat",
    "fd",
    "serde",
    "tokio",
    "hyper",
    "axum",
    "actix-web",
    "clap",
    "rustlings",
    "book",
    "free-programming-books",
    "public-apis",
    "system-design-primer",
    "coding-interview-university",
    "developer-roadmap",
    "javascript-algorithms",
    "build-your-own-x",
    "30-seconds-of-code",
    "first-contributions",
    "docs",
    "website",
    "api",
    "cli",
    "sdk-python",
    "infra",
    "helm-charts",
    "neovim",
    "transformers",
    "langchain",
    "llama.cpp",
    "whisper",
    "stable-diffusion-webui",
    "uv",
    "ruff",
    "payments-service",
    "checkout-web",
    "mobile-app",
    "terraform-modules",
    "blog",
    "advent-of-code-2025",
    "nvim-config",
    "resume",
];

const FIRST_NAMES: &[&str] = &[
    "Jane", "John", "Maria", "James", "Aiko", "Lucas", "Fatima", "Olivia", "Noah", "Priya",
    "Mateo", "Chen", "Sofia", "Liam", "Amara", "Hiroshi", "Elena", "Omar", "Ingrid", "Kwame",
    "Zoe", "Arjun", "Lena", "Diego", "Mei", "Tomasz", "Chloe", "Emre", "Ava", "Finn",
];
const LAST_NAMES: &[&str] = &[
    "Doe", "Smith", "Garcia", "Tanaka", "Silva", "Khan", "Jones", "Muller", "Patel", "Rossi",
    "Wang", "Nguyen", "Kim", "Okafor", "Nilsson", "Kowalski", "Martin", "Hassan", "Berg", "Ramos",
    "Sharma", "Lee", "Schmidt", "Kumar", "Oconnor", "Novak", "Yilmaz", "Mensah",
];
const EMAIL_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
];
const WORDS: &[&str] = &[
    "fix",
    "crash",
    "when",
    "parsing",
    "empty",
    "config",
    "add",
    "support",
    "for",
    "dark",
    "mode",
    "update",
    "dependencies",
    "docs",
    "typo",
    "in",
    "readme",
    "improve",
    "performance",
    "of",
    "search",
    "index",
    "refactor",
    "auth",
    "middleware",
    "handle",
    "timeout",
    "retry",
    "logic",
    "broken",
    "link",
    "release",
    "notes",
    "migrate",
    "to",
    "new",
    "api",
    "remove",
    "deprecated",
    "flag",
    "memory",
    "leak",
    "on",
    "reload",
    "flaky",
    "test",
    "ci",
    "pipeline",
];
const K8S_APPS: &[&str] = &[
    "payments-api",
    "checkout-web",
    "orders-worker",
    "inventory-svc",
    "auth-gateway",
    "redis-cache",
    "postgres-primary",
    "kafka-broker",
    "prometheus-server",
    "grafana",
    "coredns",
    "ingress-nginx-controller",
    "cert-manager-webhook",
    "fluent-bit",
    "node-exporter",
    "search-indexer",
    "notification-sender",
    "image-resizer",
    "billing-cron",
    "feature-flags",
];
const K8S_CRONS: &[&str] = &[
    "billing-cron",
    "nightly-report",
    "db-backup",
    "cache-warmer",
];
const SHOP_A: &[&str] = &[
    "nordic", "blue", "acme", "urban", "little", "golden", "wild", "happy", "green", "north",
    "coastal", "iron", "velvet", "sunny", "maple",
];
const SHOP_B: &[&str] = &[
    "knits", "bottle", "outdoor", "threads", "paws", "goods", "coffee", "garden", "optics",
    "bikes", "pantry", "studio", "ceramics", "supply", "books",
];
const SKU_CAT: &[&str] = &[
    "TNT", "JKT", "BOT", "MUG", "LMP", "BAG", "SOC", "HAT", "TEE", "CHR",
];
const SKU_COLOR: &[&str] = &["BLK", "WHT", "GRN", "RED", "NVY", "GRY", "OLV", "SND"];
const LANGS: &[&str] = &[
    "Rust",
    "Go",
    "TypeScript",
    "Python",
    "C",
    "Java",
    "Kotlin",
    "Ruby",
];
const GENRES: &[&str] = &[
    "indie pop",
    "techno",
    "swedish pop",
    "jazz rap",
    "lo-fi",
    "k-pop",
];
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";
/// Characters of Kubernetes generated name suffixes.
const K8S_ALNUM: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

// ------------------------------------------------------------ options

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTrafficOptions {
    /// Number of HTTP transactions (1 ..= [`MAX_CALLS`]).
    pub calls: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for ApiTrafficOptions {
    fn default() -> Self {
        ApiTrafficOptions {
            calls: DEFAULT_CALLS,
            seed: DEFAULT_SEED,
        }
    }
}

/// What [`write_api_traffic`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiTrafficInfo {
    /// The capture.
    pub pcap: PathBuf,
    /// The labels.
    pub labels: PathBuf,
    /// One OpenAPI document per API, in catalogue order.
    pub specs: Vec<PathBuf>,
    /// APIs in the catalogue.
    pub apis: usize,
    /// Operations in the catalogue.
    pub operations: usize,
    /// HTTP transactions (one label each).
    pub calls: usize,
    /// TCP connections.
    pub connections: usize,
    /// Capture records.
    pub packets: u64,
    /// Capture file size.
    pub bytes: u64,
    /// Distinct (host, method, template) called.
    pub endpoints: usize,
    /// Endpoints called but not documented.
    pub shadow_endpoints: usize,
    /// Endpoints deprecated in the spec and called.
    pub zombie_endpoints: usize,
    /// Documented operations never called.
    pub spec_only_operations: usize,
}

// ------------------------------------------------------------ templates

fn is_param(seg: &str) -> bool {
    seg.len() > 2 && seg.starts_with('{') && seg.ends_with('}')
}

/// Whether `path` has the structure of `template`: as many segments,
/// literal segments equal, and a non-empty segment for each `{...}`.
pub fn path_matches_template(path: &str, template: &str) -> bool {
    let (mut a, mut b) = (path.split('/'), template.split('/'));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(t)) => {
                let ok = if is_param(t) { !x.is_empty() } else { x == t };
                if !ok {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// Whether two templates are equal up to placeholder names.
pub fn same_structure(a: &str, b: &str) -> bool {
    let (mut x, mut y) = (a.split('/'), b.split('/'));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(s), Some(t)) => {
                if is_param(s) != is_param(t) || (!is_param(s) && s != t) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// A template segment with its parameter definition resolved.
#[derive(Debug, Clone, Copy)]
enum Seg {
    Lit(&'static str),
    Param(&'static str, usize),
}

fn compile(api: &ApiDef, template: &'static str) -> Result<Vec<Seg>, SynthError> {
    let mut out = Vec::new();
    let mut prev = "";
    for s in template.split('/').skip(1) {
        if is_param(s) {
            let name = &s[1..s.len() - 1];
            let def = api
                .params
                .iter()
                .position(|d| d.name == name && d.after == prev)
                .or_else(|| {
                    api.params
                        .iter()
                        .position(|d| d.name == name && d.after.is_empty())
                })
                .ok_or_else(|| {
                    SynthError::arg(format!("{}: no definition of {s} in {template}", api.name))
                })?;
            out.push(Seg::Param(name, def));
        } else {
            out.push(Seg::Lit(s));
            prev = s;
        }
    }
    Ok(out)
}

/// Whether `path` matches `template` and routes to it: no other template of
/// `api` that matches `path` has a literal where `template` has a
/// parameter (`/v1/customers/search` routes to itself, not to
/// `/v1/customers/{customer}`; the value `search` is never drawn for
/// `{customer}`).
fn resolves_only_to(api: &ApiDef, template: &str, path: &str) -> bool {
    path_matches_template(path, template)
        && api.operations.iter().all(|o| {
            o.template == template
                || !path_matches_template(path, o.template)
                || !template
                    .split('/')
                    .zip(o.template.split('/'))
                    .any(|(mine, other)| is_param(mine) && !is_param(other))
        })
}

// ------------------------------------------------------------ values

fn pick<'a>(rng: &mut SplitMix64, list: &[&'a str]) -> &'a str {
    list[rng.index(list.len())]
}

fn chars(rng: &mut SplitMix64, alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| char::from(alphabet[rng.index(alphabet.len())]))
        .collect()
}

fn b62(rng: &mut SplitMix64, n: usize) -> String {
    chars(rng, BASE62, n)
}

fn hex(rng: &mut SplitMix64, n: usize) -> String {
    chars(rng, HEX, n)
}

fn digits(rng: &mut SplitMix64, n: usize) -> String {
    chars(rng, b"0123456789", n)
}

fn b64url(rng: &mut SplitMix64, n: usize) -> String {
    chars(
        rng,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        n,
    )
}

fn uuid_v4(rng: &mut SplitMix64) -> String {
    let variant = char::from(b"89ab"[rng.index(4)]);
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 3),
        hex(rng, 12)
    )
}

/// The 10 characters Stripe ids of one account share.
const STRIPE_ACCOUNT: &str = "Pq8fZ2LkT4";

fn stripe_id(rng: &mut SplitMix64, prefix: &str, long: bool) -> String {
    if long {
        let v = if rng.chance(1, 3) { '1' } else { '3' };
        format!("{prefix}{v}{}{STRIPE_ACCOUNT}{}", b62(rng, 5), b62(rng, 8))
    } else {
        format!("{prefix}{}", b62(rng, 14))
    }
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn date_of(secs: u64) -> String {
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

fn iso_time(secs: u64) -> String {
    let t = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date_of(secs),
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    let t = secs % 86_400;
    format!(
        "{}, {d:02} {} {y} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(m - 1) as usize],
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// A moment in the `days` before the capture.
fn past_secs(rng: &mut SplitMix64, days: u64) -> u64 {
    EPOCH_SECS - 1 - rng.below(days * 86_400)
}

fn full_name(rng: &mut SplitMix64) -> String {
    format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES))
}

fn email(rng: &mut SplitMix64) -> String {
    let f = pick(rng, FIRST_NAMES).to_ascii_lowercase();
    let l = pick(rng, LAST_NAMES).to_ascii_lowercase();
    let domain = pick(rng, EMAIL_DOMAINS);
    match rng.below(5) {
        0 => format!("{}.{l}@{domain}", &f[..1]),
        1 => format!("{f}.{l}+orders@{domain}"),
        2 => format!("{f}{}@{domain}", rng.range(1, 99)),
        _ => format!("{f}.{l}@{domain}"),
    }
}

fn sentence(rng: &mut SplitMix64, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(pick(rng, WORDS));
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => s,
    }
}

/// One value of `kind`.
pub fn gen_value(kind: ValueKind, rng: &mut SplitMix64) -> String {
    match kind {
        ValueKind::Int { lo, hi } => rng.range(lo, hi).to_string(),
        ValueKind::Uuid => uuid_v4(rng),
        ValueKind::ObjectId => {
            let ts = past_secs(rng, 700) as u32;
            format!("{ts:08x}{}", hex(rng, 16))
        }
        ValueKind::Hex { len } => hex(rng, len),
        ValueKind::Base62 { len } => b62(rng, len),
        ValueKind::Stripe { prefix, long } => stripe_id(rng, prefix, long),
        ValueKind::Handle => pick(rng, HANDLES).to_string(),
        ValueKind::Org => pick(rng, ORGS).to_string(),
        ValueKind::Repo => pick(rng, REPOS).to_string(),
        ValueKind::Words(list) => pick(rng, list).to_string(),
        ValueKind::K8sApp { suffix } => format!("{}{suffix}", pick(rng, K8S_APPS)),
        ValueKind::K8sPod => {
            let app = pick(rng, K8S_APPS);
            let n = 9 + rng.index(2);
            format!(
                "{app}-{}-{}",
                chars(rng, K8S_ALNUM, n),
                chars(rng, K8S_ALNUM, 5)
            )
        }
        ValueKind::K8sNode => {
            if rng.chance(2, 3) {
                format!(
                    "ip-10-0-{}-{}.eu-west-1.compute.internal",
                    rng.below(64),
                    rng.range(1, 254)
                )
            } else {
                format!(
                    "gke-prod-default-pool-{}-{}",
                    hex(rng, 8),
                    chars(rng, BASE36, 4)
                )
            }
        }
        ValueKind::K8sJob => format!(
            "{}-{}",
            pick(rng, K8S_CRONS),
            29_400_000 + rng.below(60_000)
        ),
        ValueKind::Date => {
            // 2025-07-01 .. 2026-01-31
            let day = EPOCH_SECS / 86_400 - 184 + rng.below(215);
            date_of(day * 86_400)
        }
        ValueKind::Month => {
            const MONTHS: [&str; 6] = [
                "2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01",
            ];
            pick(rng, &MONTHS).to_string()
        }
        ValueKind::Email => email(rng),
        ValueKind::Sku => format!(
            "{}-{}{}-{}-{:03}",
            pick(rng, SKU_CAT),
            rng.range(1, 4),
            pick(rng, &["P", "S", "M", "L", "X"]),
            pick(rng, SKU_COLOR),
            rng.below(1000)
        ),
        ValueKind::ShopSlug => format!("{}-{}", pick(rng, SHOP_A), pick(rng, SHOP_B)),
        ValueKind::DocNumber { prefix } => format!(
            "{prefix}-{}-{:06}",
            2025 + rng.below(2),
            rng.below(1_000_000)
        ),
        ValueKind::SpotifyUser => match rng.below(3) {
            0 => pick(rng, HANDLES).to_ascii_lowercase(),
            1 => format!("{}", rng.range(1_000_000_000, 2_199_999_999)),
            _ => format!("31{}", chars(rng, BASE36, 26)),
        },
    }
}

/// Cumulative Zipf-like weights for ranks `0..n`: rank `r` weighs
/// `1/(r+1)^1.25` when `steep` (endpoint popularity), else `1/(r+3)`
/// (Zipf-Mandelbrot: values and clients, a flatter head). Only `sqrt` and
/// division, which IEEE 754 rounds identically everywhere.
fn zipf_cum(n: usize, steep: bool) -> Vec<u64> {
    let mut acc = 0u64;
    (0..n)
        .map(|r| {
            let x = (r + 1) as f64;
            let w = if steep { x * x.sqrt().sqrt() } else { x + 2.0 };
            acc += (1e9 / w) as u64 + 1;
            acc
        })
        .collect()
}

fn draw_cum(cum: &[u64], rng: &mut SplitMix64) -> usize {
    let total = cum.last().copied().unwrap_or(0);
    let x = rng.below(total);
    cum.partition_point(|&c| c <= x)
        .min(cum.len().saturating_sub(1))
}

/// Distinct values of one parameter, the first ones most called.
#[derive(Debug, Clone)]
struct Pool {
    values: Vec<String>,
    cum: Vec<u64>,
}

impl Pool {
    fn new(def: &ParamDef, rng: &mut SplitMix64) -> Pool {
        let want = def.pool.max(1);
        let mut values: Vec<String> = Vec::with_capacity(want);
        let mut tries = 0;
        while values.len() < want && tries < want * 40 + 100 {
            tries += 1;
            let v = gen_value(def.kind, rng);
            if !values.contains(&v) {
                values.push(v);
            }
        }
        let cum = zipf_cum(values.len(), false);
        Pool { values, cum }
    }

    fn draw(&self, rng: &mut SplitMix64) -> &str {
        &self.values[draw_cum(&self.cum, rng)]
    }
}

// ------------------------------------------------------------ requests

/// Path parameter values of one call: (placeholder name, value).
type Values = Vec<(&'static str, String)>;

/// Everything the content builders need about one call.
struct Ctx<'a> {
    api: &'a ApiDef,
    op: &'a Operation,
    /// Last literal segment (the resource or action).
    noun: &'static str,
    /// The template ends with a parameter.
    item: bool,
    vals: Values,
    authed: bool,
    secs: u64,
    /// Request path without the query.
    path: String,
}

impl Ctx<'_> {
    fn val(&self, name: &str) -> Option<&str> {
        self.vals
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn last(&self) -> &str {
        self.vals.last().map(|(_, v)| v.as_str()).unwrap_or("")
    }

    fn has_body(&self) -> bool {
        matches!(self.op.method, "POST" | "PUT" | "PATCH")
    }

    fn is(&self, template: &str) -> bool {
        self.op.template == template
    }
}

fn noun_of(template: &'static str) -> (&'static str, bool) {
    let segs: Vec<&'static str> = template.split('/').filter(|s| !s.is_empty()).collect();
    match segs.last() {
        Some(l) if is_param(l) => (
            segs.iter()
                .rev()
                .copied()
                .find(|s| !is_param(s))
                .unwrap_or(""),
            true,
        ),
        Some(l) => (l, false),
        None => ("", false),
    }
}

fn user_agent(style: ApiStyle, client: usize) -> &'static str {
    let list: &[&str] = match style {
        ApiStyle::GitHub => &[
            "GitHub CLI 2.45.0",
            "octokit-rest.js/20.0.2 octokit-core.js/5.0.2 Node.js/20.11.0 (linux; x64)",
            "PyGithub/Python",
            "curl/8.5.0",
            "Go-http-client/1.1",
            "Renovate Bot (GitHub App 2740)",
        ],
        ApiStyle::Stripe => &[
            "Stripe/v1 RubyBindings/10.5.0",
            "Stripe/v1 PythonBindings/8.1.0",
            "Stripe/v1 NodeBindings/14.14.0",
            "Stripe/v1 GoBindings/76.8.0",
        ],
        ApiStyle::Spotify => &[
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
            "Spotify/8.9.10 Android/34 (Pixel 8)",
            "Spotify/1.2.31.1205 Win32_x86_64/0 (PC desktop)",
            "python-requests/2.31.0",
        ],
        ApiStyle::Kubernetes => &[
            "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",
            "kube-controller-manager/v1.29.2 (linux/amd64) kubernetes/4b8e819/system:serviceaccount:kube-system:deployment-controller",
            "argocd-application-controller/v2.10.1",
            "prometheus/2.49.1",
            "Helm/3.14.0",
        ],
        ApiStyle::Petstore => &[
            "curl/8.5.0",
            "PostmanRuntime/7.36.1",
            "python-requests/2.31.0",
            "Swagger-Codegen/1.0.0/java",
            "okhttp/4.12.0",
        ],
        ApiStyle::Shop => &[
            "ShopApp/4.12.1 (iPhone; iOS 17.3; Scale/3.00)",
            "ShopApp/4.12.0 (Android 14; SM-S918B)",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
            "axios/1.6.7",
            "Go-http-client/1.1",
            "Apache-HttpClient/4.5.14 (Java/17.0.9)",
        ],
        ApiStyle::Slack => &[
            "Slack-Ruby-Client/2.3.0",
            "Python/3.11.7 slackclient/3.26.2 Linux/6.5.0",
            "@slack/web-api:6.11.2 node/20.11.0 linux/6.5.0",
        ],
    };
    list[(client * 7 + style as usize) % list.len()]
}

/// The (header, value) a client sends to an API, or `None` (5%: no
/// credentials). Deterministic per client and API.
fn credentials(style: ApiStyle, rng: &mut SplitMix64) -> Option<(&'static str, String)> {
    if rng.below(100) < 5 {
        return None;
    }
    let auth = "Authorization";
    Some(match style {
        ApiStyle::GitHub => {
            if rng.chance(1, 4) {
                (auth, format!("token gho_{}", b62(rng, 36)))
            } else {
                (auth, format!("Bearer ghp_{}", b62(rng, 36)))
            }
        }
        ApiStyle::Stripe => (
            auth,
            format!("Bearer sk_test_51{STRIPE_ACCOUNT}{}", b62(rng, 30)),
        ),
        ApiStyle::Spotify => (auth, format!("Bearer BQ{}", b64url(rng, 70))),
        ApiStyle::Kubernetes => (
            auth,
            format!(
                "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IkY3ZTcifQ.{}.{}",
                b64url(rng, 120),
                b64url(rng, 43)
            ),
        ),
        ApiStyle::Petstore => ("api_key", "special-key".to_string()),
        ApiStyle::Shop => (
            auth,
            format!(
                "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
                b64url(rng, 96),
                b64url(rng, 43)
            ),
        ),
        ApiStyle::Slack => (
            auth,
            format!(
                "Bearer xoxb-{}-{}-{}",
                digits(rng, 13),
                digits(rng, 13),
                b62(rng, 24)
            ),
        ),
    })
}

fn success_status(c: &Ctx) -> u16 {
    let style = c.api.style;
    match c.op.method {
        "DELETE" => match style {
            ApiStyle::Stripe | ApiStyle::Kubernetes | ApiStyle::Petstore => 200,
            _ => 204,
        },
        "POST" => match style {
            ApiStyle::GitHub if c.noun == "stats" => 200,
            ApiStyle::GitHub if c.noun == "dispatches" => 204,
            ApiStyle::GitHub | ApiStyle::Kubernetes => 201,
            ApiStyle::Spotify => 201,
            ApiStyle::Shop
                if matches!(c.noun, "login" | "refresh" | "checkout" | "impersonate") =>
            {
                200
            }
            ApiStyle::Shop => 201,
            _ => 200,
        },
        "PUT" if style == ApiStyle::Spotify && c.noun == "play" => 204,
        "GET" if c.is("/orgs/{org}/members/{username}") => 204,
        _ => 200,
    }
}

fn pick_status(c: &Ctx, rng: &mut SplitMix64) -> u16 {
    let style = c.api.style;
    if !c.authed && style != ApiStyle::Petstore {
        // Slack reports errors in a 200 body.
        return if style == ApiStyle::Slack { 200 } else { 401 };
    }
    let r = rng.below(1000);
    if c.op.template.contains('{') && r < 45 {
        return 404;
    }
    if c.has_body() && (45..75).contains(&r) && style != ApiStyle::Slack {
        return match style {
            ApiStyle::GitHub | ApiStyle::Shop => 422,
            _ => 400,
        };
    }
    success_status(c)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        _ => "Unknown",
    }
}

/// Draws the values of `segs` until the path resolves only to its own
/// template. `fresh`: the last value is new (a 404 for an unknown id).
fn draw_path(
    api: &ApiDef,
    op: &Operation,
    segs: &[Seg],
    pools: &[Pool],
    fresh: bool,
    rng: &mut SplitMix64,
) -> Result<(String, Values), SynthError> {
    let params = segs.iter().filter(|s| matches!(s, Seg::Param(..))).count();
    for attempt in 0..64 {
        let mut path = String::new();
        let mut vals = Vec::with_capacity(params);
        for seg in segs {
            path.push('/');
            match *seg {
                Seg::Lit(s) => path.push_str(s),
                Seg::Param(name, def) => {
                    let v = if (fresh && vals.len() + 1 == params) || attempt >= 32 {
                        gen_value(api.params[def].kind, rng)
                    } else {
                        pools[def].draw(rng).to_string()
                    };
                    path.push_str(&v);
                    vals.push((name, v));
                }
            }
        }
        if resolves_only_to(api, op.template, &path) {
            return Ok((path, vals));
        }
    }
    Err(SynthError::arg(format!(
        "{}: no value for {} avoids its literal siblings",
        api.name, op.template
    )))
}

fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn slack_channel(rng: &mut SplitMix64) -> String {
    format!("C0{}", chars(rng, b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", 8))
}

fn slack_user(rng: &mut SplitMix64) -> String {
    format!("U0{}", chars(rng, b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", 8))
}

fn make_query(c: &Ctx, rng: &mut SplitMix64) -> Option<String> {
    let get = c.op.method == "GET";
    let q = match c.api.style {
        ApiStyle::GitHub => match c.noun {
            "repositories" => format!(
                "q={}&sort=stars&order=desc&per_page=30",
                enc(&format!(
                    "{} language:{} stars:>{}",
                    pick(rng, WORDS),
                    pick(rng, LANGS).to_ascii_lowercase(),
                    rng.range(10, 5000)
                ))
            ),
            "issues" | "pulls" if get && !c.item && rng.chance(3, 4) => format!(
                "state={}&per_page={}&page={}",
                pick(rng, &["open", "closed", "all"]),
                pick(rng, &["30", "50", "100"]),
                rng.range(1, 6)
            ),
            "commits" if !c.item && rng.chance(1, 2) => {
                format!("sha={}&per_page=100", pick(rng, BRANCHES))
            }
            "jobs" => "filter=latest".to_string(),
            _ if get && !c.item && rng.chance(1, 3) => format!(
                "per_page={}&page={}",
                pick(rng, &["30", "50", "100"]),
                rng.range(1, 9)
            ),
            _ => return None,
        },
        ApiStyle::Stripe => match c.noun {
            "search" => format!("query={}&limit=10", enc(&format!("email:'{}'", email(rng)))),
            "customers" | "charges" | "refunds" | "payment_methods" if get && !c.item => {
                if rng.chance(1, 2) {
                    format!("limit={}", pick(rng, &["3", "10", "100"]))
                } else {
                    format!("limit=100&starting_after={}", stripe_id(rng, "cus_", false))
                }
            }
            _ if get && c.item && rng.chance(1, 5) => {
                format!(
                    "expand%5B%5D={}",
                    pick(rng, &["customer", "latest_charge", "data.customer"])
                )
            }
            _ => return None,
        },
        ApiStyle::Spotify => match c.noun {
            "search" => format!(
                "q={}&type={}&limit=10",
                enc(&sentence(rng, 2).to_ascii_lowercase()),
                pick(rng, &["track", "artist", "album", "track%2Cartist"])
            ),
            "top-tracks" => format!("market={}", pick(rng, &["SE", "US", "DE", "BR", "JP"])),
            "playlists" | "tracks" | "albums" | "categories" | "new-releases"
            | "featured-playlists"
                if get && !c.item =>
            {
                format!(
                    "limit={}&offset={}",
                    pick(rng, &["20", "50"]),
                    20 * rng.below(5)
                )
            }
            _ if c.noun == "top" || c.is("/v1/me/top/{type}") => format!(
                "time_range={}&limit=20",
                pick(rng, &["short_term", "medium_term", "long_term"])
            ),
            "categories" if c.item => "locale=en_US".to_string(),
            _ if get && c.item && rng.chance(1, 3) => "market=from_token".to_string(),
            _ => return None,
        },
        ApiStyle::Kubernetes => match c.noun {
            "log" => format!(
                "container={}&tailLines={}&timestamps=true",
                pick(rng, &["app", "istio-proxy", "main"]),
                pick(rng, &["100", "500", "1000"])
            ),
            _ if get && !c.item && c.noun != "metrics" && c.noun != "readyz" => {
                match rng.below(4) {
                    0 => "limit=500".to_string(),
                    1 => format!(
                        "labelSelector={}",
                        enc(&format!("app={}", pick(rng, K8S_APPS)))
                    ),
                    2 => "resourceVersion=0".to_string(),
                    _ => return None,
                }
            }
            _ if matches!(c.op.method, "PATCH" | "PUT") && rng.chance(1, 2) => {
                "fieldManager=kubectl-client-side-apply".to_string()
            }
            _ => return None,
        },
        ApiStyle::Petstore => match c.noun {
            "findByStatus" => format!(
                "status={}",
                pick(
                    rng,
                    &["available", "pending", "sold", "available%2Cpending"]
                )
            ),
            "findByTags" => format!(
                "tags={}&tags={}",
                pick(rng, &["tag1", "dog", "cat"]),
                pick(rng, &["tag2", "friendly"])
            ),
            "login" => format!(
                "username={}&password={}",
                enc(pick(rng, HANDLES)),
                enc(&b62(rng, 10))
            ),
            _ => return None,
        },
        ApiStyle::Shop => match c.noun {
            "products" if !c.item => format!(
                "page={}&size=25&sort={}&category={}",
                rng.range(1, 8),
                enc(pick(
                    rng,
                    &["createdAt,desc", "price,asc", "popularity,desc"]
                )),
                pick(rng, &["tents", "jackets", "mugs", "lamps", "bags"])
            ),
            "orders" if get && !c.item && rng.chance(2, 3) => format!(
                "status={}&page={}&size=50",
                pick(rng, &["paid", "shipped", "open"]),
                rng.range(1, 4)
            ),
            "reviews" if get => format!("rating_gte={}&page=1", rng.range(1, 5)),
            "daily" | "monthly" => format!(
                "tz={}&currency={}",
                enc(pick(rng, &["Europe/Berlin", "UTC", "America/New_York"])),
                pick(rng, &["EUR", "USD"])
            ),
            _ => return None,
        },
        ApiStyle::Slack => match c.noun {
            "conversations.history" => format!(
                "channel={}&limit=200&oldest={}.000000",
                slack_channel(rng),
                past_secs(rng, 7)
            ),
            "conversations.list" => {
                "types=public_channel%2Cprivate_channel&exclude_archived=true&limit=200".to_string()
            }
            "conversations.info" | "conversations.members" => {
                format!("channel={}", slack_channel(rng))
            }
            "users.info" => format!("user={}", slack_user(rng)),
            "users.lookupByEmail" => format!("email={}", enc(&email(rng))),
            "users.list" => "limit=200".to_string(),
            _ => return None,
        },
    };
    Some(q)
}

fn to_json(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

const FORM: &str = "application/x-www-form-urlencoded";
const JSON_CT: &str = "application/json";

/// Request body and its Content-Type, for POST/PUT/PATCH.
fn request_body(c: &Ctx, rng: &mut SplitMix64) -> Option<(String, Vec<u8>)> {
    if !c.has_body() {
        return None;
    }
    let json = |v: Value| Some((JSON_CT.to_string(), to_json(&v)));
    let form = |s: String| Some((FORM.to_string(), s.into_bytes()));
    match c.api.style {
        ApiStyle::GitHub => match c.noun {
            "issues" => json(json!({
                "title": sentence(rng, 6),
                "body": sentence(rng, 14),
                "labels": [pick(rng, &["bug", "enhancement", "documentation"])],
            })),
            "comments" => json(json!({"body": sentence(rng, 12)})),
            "merge" => json(json!({
                "merge_method": pick(rng, &["merge", "squash", "rebase"]),
                "commit_title": sentence(rng, 5),
            })),
            "user" => json(json!({"bio": sentence(rng, 6), "blog": "https://example.com"})),
            "stats" => json(json!({"stats": [{"name": "page_view", "value": rng.range(1, 40)}]})),
            _ if c.item => json(json!({"state": pick(rng, &["open", "closed"])})),
            _ => json(json!({"event_type": "deploy", "client_payload": {"ref": "main"}})),
        },
        ApiStyle::Stripe => match c.noun {
            "customers" => form(format!(
                "email={}&name={}&metadata%5Bcrm_id%5D={}",
                enc(&email(rng)),
                enc(&full_name(rng)),
                rng.range(10_000, 99_999)
            )),
            "payment_intents" => form(format!(
                "amount={}&currency={}&customer={}&automatic_payment_methods%5Benabled%5D=true",
                rng.range(100, 50_000),
                pick(rng, &["usd", "eur", "gbp"]),
                stripe_id(rng, "cus_", false)
            )),
            "refunds" => form(format!(
                "charge={}&amount={}&reason=requested_by_customer",
                c.val("charge")
                    .map(str::to_string)
                    .unwrap_or_else(|| stripe_id(rng, "ch_", true)),
                rng.range(100, 5_000)
            )),
            "capture" | "increment_authorization" => {
                form(format!("amount={}", rng.range(100, 20_000)))
            }
            "confirm" => form(format!("payment_method={}", stripe_id(rng, "pm_", true))),
            "cancel" => form("cancellation_reason=requested_by_customer".to_string()),
            _ => form(String::new()),
        },
        ApiStyle::Spotify => match c.noun {
            "tracks" if c.op.method == "PUT" => json(json!({"ids": [b62(rng, 22), b62(rng, 22)]})),
            "tracks" => {
                json(json!({"uris": [format!("spotify:track:{}", b62(rng, 22))], "position": 0}))
            }
            "play" => json(json!({
                "context_uri": format!("spotify:album:{}", b62(rng, 22)),
                "offset": {"position": rng.below(10)},
                "position_ms": 0,
            })),
            _ => json(
                json!({"name": sentence(rng, 3), "description": sentence(rng, 6), "public": false}),
            ),
        },
        ApiStyle::Kubernetes => {
            let ns = c.val("namespace").unwrap_or("default");
            let name = c.val("name").unwrap_or("payments-api");
            let v = match (c.op.method, c.noun) {
                ("PATCH", _) => json!({"spec": {"template": {"metadata": {"annotations": {
                    "kubectl.kubernetes.io/restartedAt": iso_time(c.secs)}}}}}),
                (_, "scale") => json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {"replicas": rng.range(1, 12)}}),
                (_, "events") => json!({"kind": "Event", "apiVersion": "v1",
                    "metadata": {"generateName": format!("{}.", pick(rng, K8S_APPS)),
                        "namespace": ns},
                    "reason": pick(rng, &["Scheduled", "Pulled", "BackOff", "ScalingReplicaSet"]),
                    "message": sentence(rng, 6), "type": "Normal"}),
                (_, "leases") => json!({"kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
                    "metadata": {"name": name, "namespace": ns,
                        "resourceVersion": rng.range(100_000, 9_999_999).to_string()},
                    "spec": {"holderIdentity": format!("{name}-{}", chars(rng, K8S_ALNUM, 5)),
                        "leaseDurationSeconds": 15, "renewTime": format!("{}.000000Z",
                            &iso_time(c.secs)[..19])}}),
                _ => json!({"kind": "ConfigMap", "apiVersion": "v1",
                    "metadata": {"name": name, "namespace": ns},
                    "data": {"LOG_LEVEL": pick(rng, &["info", "debug", "warn"]),
                        "FEATURE_NEW_CHECKOUT": "true"}}),
            };
            let ct = if c.op.method == "PATCH" {
                "application/strategic-merge-patch+json"
            } else {
                JSON_CT
            };
            Some((ct.to_string(), to_json(&v)))
        }
        ApiStyle::Petstore => match c.noun {
            "pet" if c.item => form(format!(
                "name={}&status={}",
                pick(rng, &["doggie", "Rex", "Bella", "Milo"]),
                pick(rng, &["available", "sold"])
            )),
            "pet" => {
                let id = rng.range(1, 99_999);
                json(pet(rng, id))
            }
            "uploadImage" => {
                let boundary = format!("----WebKitFormBoundary{}", b62(rng, 16));
                let body = format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"additionalMetadata\"\r\n\r\nprofile\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dog.png\"\r\nContent-Type: image/png\r\n\r\nPNG\r\n{}\r\n--{boundary}--\r\n",
                    b62(rng, 48)
                );
                Some((
                    format!("multipart/form-data; boundary={boundary}"),
                    body.into_bytes(),
                ))
            }
            "order" => {
                let id = rng.range(1, 10);
                json(order(rng, id))
            }
            "createWithArray" => {
                let (a, b) = (pick(rng, HANDLES), pick(rng, HANDLES));
                json(json!([pet_user(rng, a), pet_user(rng, b)]))
            }
            _ => {
                let u = c
                    .val("username")
                    .map(str::to_string)
                    .unwrap_or_else(|| pick(rng, HANDLES).to_string());
                json(pet_user(rng, &u))
            }
        },
        ApiStyle::Shop => json(match c.noun {
            "me" => {
                json!({"locale": pick(rng, &["en-GB", "de-DE", "fr-FR"]),
                    "marketing_opt_in": rng.chance(1, 2)})
            }
            "addresses" => {
                json!({"line1": format!("{} {} Street", rng.range(1, 200), pick(rng, LAST_NAMES)),
                "city": pick(rng, &["Berlin", "Lyon", "Austin", "Leeds"]),
                    "postal_code": digits(rng, 5),
                "country": pick(rng, &["DE", "FR", "US", "GB"])})
            }
            "orders" if c.item => json!({"status": pick(rng, &["shipped", "cancelled"]),
                "tracking_number": format!("1Z{}", chars(rng, b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ",
                    16))}),
            "orders" => {
                json!({"items": [{"sku": gen_value(ValueKind::Sku, rng), "quantity": rng.range(1,
                    4)}],
                "shipping_address_id": rng.range(1, 99_999), "currency": "EUR"})
            }
            "refunds" => {
                json!({"amount": {"value": rng.range(100, 9_999), "currency": "EUR"},
                    "reason": "damaged"})
            }
            "reviews" => {
                json!({"rating": rng.range(1, 5), "title": sentence(rng, 4), "body": sentence(rng,
                    12)})
            }
            "items" => json!({"sku": gen_value(ValueKind::Sku, rng), "quantity": rng.range(1, 3)}),
            "checkout" => {
                json!({"payment_method": pick(rng, &["card", "paypal", "klarna"]), "coupon": null})
            }
            "login" => json!({"email": email(rng), "password": b62(rng, 14)}),
            "refresh" => json!({"refresh_token": b64url(rng, 48)}),
            _ => {
                json!({"reason": "support ticket", "ticket": format!("SUP-{}", rng.range(1000,
                    99_999))})
            }
        }),
        ApiStyle::Slack => {
            let ch = slack_channel(rng);
            match c.noun {
                "chat.postMessage" => json(json!({"channel": ch, "text": sentence(rng, 8)})),
                "chat.update" => json(
                    json!({"channel": ch, "ts": format!("{}.{}", past_secs(rng, 2), digits(rng,
                        6)), "text": sentence(rng, 8)}),
                ),
                "conversations.join" => json(json!({"channel": ch})),
                "reactions.add" => form(format!(
                    "channel={ch}&name={}&timestamp={}.{}",
                    pick(rng, &["thumbsup", "eyes", "white_check_mark", "tada"]),
                    past_secs(rng, 2),
                    digits(rng, 6)
                )),
                "files.upload" => form(format!(
                    "channels={ch}&filename=report.csv&content={}",
                    enc("date,orders\n2026-01-01,42\n")
                )),
                "files.getUploadURLExternal" => form(format!(
                    "filename=export.csv&length={}",
                    rng.range(1_000, 90_000)
                )),
                "chat.delete" => form(format!(
                    "channel={ch}&ts={}.{}",
                    past_secs(rng, 2),
                    digits(rng, 6)
                )),
                "client.counts" => {
                    form("thread_counts_by_channel=true&org_wide_aware=true".to_string())
                }
                _ => form(String::new()),
            }
        }
    }
}

// ------------------------------------------------------------ responses

fn json_ct(style: ApiStyle) -> &'static str {
    match style {
        ApiStyle::Stripe | ApiStyle::Kubernetes | ApiStyle::Petstore => "application/json",
        _ => "application/json; charset=utf-8",
    }
}

fn n_items(rng: &mut SplitMix64) -> usize {
    match rng.below(10) {
        0 => 0,
        1..=5 => 1 + rng.index(2),
        _ => 2 + rng.index(2),
    }
}

fn list(rng: &mut SplitMix64, n: usize, mut f: impl FnMut(&mut SplitMix64) -> Value) -> Value {
    Value::Array((0..n).map(|_| f(rng)).collect())
}

fn num(v: Option<&str>, rng: &mut SplitMix64) -> u64 {
    v.and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rng.range(1, 9999))
}

fn gh_user(rng: &mut SplitMix64, login: &str) -> Value {
    let id = rng.range(1_000, 190_000_000);
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_kgDO{}", b62(rng, 6)),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "html_url": format!("https://github.com/{login}"),
        "type": "User",
        "site_admin": false,
    })
}

fn gh_repo(rng: &mut SplitMix64, owner: &str, name: &str) -> Value {
    json!({
        "id": rng.range(1_000_000, 900_000_000),
        "name": name,
        "full_name": format!("{owner}/{name}"),
        "private": rng.chance(1, 10),
        "owner": {"login": owner, "type": "User"},
        "html_url": format!("https://github.com/{owner}/{name}"),
        "description": sentence(rng, 5),
        "fork": false,
        "language": pick(rng, LANGS),
        "stargazers_count": rng.below(200_000),
        "open_issues_count": rng.below(2_000),
        "default_branch": "main",
        "pushed_at": iso_time(past_secs(rng, 30)),
    })
}

fn gh_issue(rng: &mut SplitMix64, owner: &str, repo: &str, number: u64) -> Value {
    let author = pick(rng, HANDLES);
    json!({
        "id": rng.range(1_000_000_000, 2_900_000_000u64),
        "number": number,
        "title": sentence(rng, 6),
        "state": pick(rng, &["open", "open", "closed"]),
        "user": {"login": author},
        "labels": [{"name": pick(rng, &["bug", "enhancement", "good first issue",
            "needs-triage"])}],
        "comments": rng.below(40),
        "html_url": format!("https://github.com/{owner}/{repo}/issues/{number}"),
        "created_at": iso_time(past_secs(rng, 400)),
    })
}

fn gh_pull(rng: &mut SplitMix64, owner: &str, repo: &str, number: u64) -> Value {
    let author = pick(rng, HANDLES);
    json!({
        "id": rng.range(1_000_000_000, 2_900_000_000u64),
        "number": number,
        "state": pick(rng, &["open", "closed"]),
        "title": sentence(rng, 5),
        "user": {"login": author},
        "head": {"ref": format!("feature/{}", pick(rng, WORDS)), "sha": hex(rng, 40)},
        "base": {"ref": "main"},
        "merged": rng.chance(1, 3),
        "html_url": format!("https://github.com/{owner}/{repo}/pull/{number}"),
    })
}

fn github_body(c: &Ctx, rng: &mut SplitMix64) -> Value {
    let owner = c
        .val("owner")
        .or(c.val("org"))
        .or(c.val("username"))
        .unwrap_or("octocat")
        .to_string();
    let repo = c.val("repo").unwrap_or("hello-world").to_string();
    let n = n_items(rng);
    match c.noun {
        "user" | "users" => {
            let login = if c.item {
                c.last().to_string()
            } else {
                pick(rng, HANDLES).to_string()
            };
            let mut u = gh_user(rng, &login);
            if let Value::Object(m) = &mut u {
                m.insert("name".into(), json!(full_name(rng)));
                m.insert("public_repos".into(), json!(rng.below(300)));
                m.insert("followers".into(), json!(rng.below(50_000)));
                m.insert("created_at".into(), json!(iso_time(past_secs(rng, 4000))));
            }
            u
        }
        "repos" if c.item => gh_repo(rng, &owner, &repo),
        "repos" => list(rng, n, |r| {
            let name = pick(r, REPOS);
            gh_repo(r, &owner, name)
        }),
        "public" => list(rng, n, |r| {
            json!({
                "id": digits(r, 11),
                "type": pick(r, &["PushEvent", "WatchEvent", "IssuesEvent", "PullRequestEvent"]),
                "actor": {"login": owner},
                "repo": {"name": format!("{owner}/{}", pick(r, REPOS))},
                "created_at": iso_time(past_secs(r, 10)),
            })
        }),
        "orgs" => json!({
            "login": owner,
            "id": rng.range(10_000, 150_000_000),
            "description": sentence(rng, 6),
            "public_repos": rng.below(3_000),
            "html_url": format!("https://github.com/{owner}"),
        }),
        "members" | "contributors" => list(rng, n + 1, |r| {
            let login = pick(r, HANDLES);
            gh_user(r, login)
        }),
        "teams" if c.item => {
            json!({"id": num(Some(c.last()), rng), "slug": pick(rng, TEAMS), "privacy": "closed"})
        }
        "teams" => list(rng, n, |r| {
            let slug = pick(r, TEAMS);
            json!({"id": r.range(1_000_000, 9_999_999), "slug": slug, "name": slug,
                "privacy": "closed"})
        }),
        "issues" if c.item || c.op.method == "POST" => {
            let number = if c.item {
                num(c.val("issueNumber"), rng)
            } else {
                rng.range(1, 60_000)
            };
            gh_issue(rng, &owner, &repo, number)
        }
        "issues" => list(rng, n, |r| {
            let number = r.range(1, 60_000);
            gh_issue(r, &owner, &repo, number)
        }),
        "comments" if c.op.method == "POST" => json!({
            "id": rng.range(1_000_000_000, 2_900_000_000u64),
            "body": sentence(rng, 10),
            "user": {"login": pick(rng, HANDLES)},
            "created_at": iso_time(c.secs),
        }),
        "comments" => list(rng, n, |r| {
            json!({"id": r.range(1_000_000_000, 2_900_000_000u64), "body": sentence(r, 10),
                "user": {"login": pick(r, HANDLES)}, "created_at": iso_time(past_secs(r, 90))})
        }),
        "pulls" if c.item => {
            let number = num(c.val("pullNumber"), rng);
            gh_pull(rng, &owner, &repo, number)
        }
        "pulls" => list(rng, n, |r| {
            let number = r.range(1, 40_000);
            gh_pull(r, &owner, &repo, number)
        }),
        "files" => list(rng, n + 1, |r| {
            let (a, d) = (r.below(300), r.below(100));
            json!({"sha": hex(r, 40), "filename": format!("src/{}.rs", pick(r, WORDS)),
                "status": pick(r, &["modified", "added", "removed"]), "additions": a,
                    "deletions": d, "changes": a + d})
        }),
        "merge" => {
            json!({"sha": hex(rng, 40), "merged": true,
                "message": "Pull Request successfully merged"})
        }
        "commits" if c.item => json!({
            "sha": c.last(),
            "commit": {"author": {"name": full_name(rng), "date": iso_time(past_secs(rng, 60))},
                "message": sentence(rng, 6)},
            "stats": {"additions": rng.below(500), "deletions": rng.below(200)},
        }),
        "commits" => list(rng, n, |r| {
            json!({"sha": hex(r, 40), "commit": {"author": {"name": full_name(r)},
                "message": sentence(r, 6)}})
        }),
        "branches" if c.item => {
            json!({"name": c.last(), "commit": {"sha": hex(rng, 40)},
                "protected": c.last() == "main"})
        }
        "branches" => list(rng, n + 1, |r| {
            json!({"name": pick(r, BRANCHES), "commit": {"sha": hex(r, 40)},
                "protected": false})
        }),
        "latest" | "releases" => {
            let tag = format!("v{}.{}.{}", rng.below(5), rng.below(30), rng.below(10));
            json!({"id": rng.range(10_000_000, 199_999_999), "tag_name": tag, "name": tag,
                "draft": false, "prerelease": false, "published_at": iso_time(past_secs(rng, 200))})
        }
        "runs" => json!({
            "id": num(c.val("runId"), rng),
            "name": "CI",
            "head_branch": pick(rng, BRANCHES),
            "status": "completed",
            "conclusion": pick(rng, &["success", "success", "failure"]),
            "run_number": rng.range(1, 9_000),
            "event": "push",
        }),
        "jobs" => {
            let jobs = list(rng, n + 1, |r| {
                json!({"id": r.range(10_000_000_000, 29_999_999_999), "name": pick(r, &["build",
                    "test", "lint"]),
                    "status": "completed", "conclusion": "success"})
            });
            json!({"total_count": jobs.as_array().map_or(0, Vec::len), "jobs": jobs})
        }
        "repositories" => {
            let items = list(rng, n, |r| {
                let (o, name) = (pick(r, HANDLES), pick(r, REPOS));
                gh_repo(r, o, name)
            });
            json!({"total_count": rng.below(90_000), "incomplete_results": false, "items": items})
        }
        "rate_limit" => {
            let used = rng.below(5_000);
            json!({"resources": {"core": {"limit": 5000, "used": used, "remaining": 5000 - used,
                "reset": c.secs + 1800},
                "search": {"limit": 30, "used": 1, "remaining": 29, "reset": c.secs + 60}},
                "rate": {"limit": 5000, "used": used, "remaining": 5000 - used,
                    "reset": c.secs + 1800}})
        }
        "gists" => json!({
            "id": c.last(),
            "description": sentence(rng, 4),
            "public": true,
            "files": {"notes.md": {"filename": "notes.md", "language": "Markdown",
                "size": rng.range(100, 9000)}},
            "owner": {"login": pick(rng, HANDLES)},
        }),
        "views" => json!({"count": rng.below(9_000), "uniques": rng.below(900), "views": [
            {"timestamp": format!("{}T00:00:00Z", date_of(c.secs - 86_400)),
                "count": rng.below(500), "uniques": rng.below(90)}]}),
        _ => json!({}),
    }
}

fn stripe_obj(c: &Ctx, noun: &str, id: Option<String>, rng: &mut SplitMix64) -> Value {
    let created = past_secs(rng, 365);
    let customer = c
        .val("customer")
        .map(str::to_string)
        .unwrap_or_else(|| stripe_id(rng, "cus_", false));
    let id_or = |prefix: &str, long: bool, rng: &mut SplitMix64| {
        id.clone().unwrap_or_else(|| stripe_id(rng, prefix, long))
    };
    match noun {
        "customers" | "search" | "customer" => json!({
            "id": id_or("cus_", false, rng), "object": "customer", "created": created,
            "email": email(rng), "name": full_name(rng), "currency": "usd", "livemode": false,
                "metadata": {},
        }),
        "charges" | "capture" => {
            let amount = rng.range(100, 50_000);
            json!({"id": id_or("ch_", true, rng), "object": "charge", "amount": amount,
                "amount_captured": amount,
                "currency": "usd", "customer": customer, "paid": true, "status": "succeeded",
                    "refunded": false, "created": created})
        }
        "refunds" => json!({
            "id": id_or("re_", true, rng), "object": "refund", "amount": rng.range(100, 5_000),
            "charge": c.val("charge").map(str::to_string).unwrap_or_else(|| stripe_id(rng, "ch_",
                true)),
            "status": "succeeded", "created": created,
        }),
        "payment_intents" | "confirm" | "cancel" | "increment_authorization" => {
            let pi = id_or("pi_", true, rng);
            let status = match noun {
                "confirm" => "succeeded",
                "cancel" => "canceled",
                "increment_authorization" => "requires_capture",
                _ => "requires_payment_method",
            };
            json!({"id": pi, "object": "payment_intent", "amount": rng.range(100, 50_000),
                "currency": "usd",
                "status": status, "client_secret": format!("{pi}_secret_{}", b62(rng, 25)),
                    "customer": customer, "created": created})
        }
        "subscriptions" => json!({
            "id": id_or("sub_", true, rng), "object": "subscription",
            "status": if c.op.method == "DELETE" { "canceled" } else { "active" },
            "customer": customer, "current_period_end": c.secs + rng.below(30 * 86_400),
        }),
        "invoices" | "upcoming" | "pay" => json!({
            "id": if noun == "upcoming" { Value::Null } else { json!(id_or("in_", true, rng)) },
            "object": "invoice", "amount_due": rng.range(500, 90_000), "currency": "usd",
            "status": if noun == "pay" { "paid" } else { "open" }, "customer": customer,
        }),
        "products" => {
            json!({"id": id_or("prod_", false, rng), "object": "product", "name": sentence(rng, 2),
                "active": true})
        }
        "prices" => {
            json!({"id": id_or("price_", true, rng), "object": "price",
                "unit_amount": rng.range(100, 9_900),
            "currency": "usd", "recurring": {"interval": pick(rng, &["month", "year"])}})
        }
        "balance" => json!({"object": "balance", "livemode": false,
            "available": [{"amount": rng.below(10_000_000), "currency": "usd"}],
            "pending": [{"amount": rng.below(1_000_000), "currency": "usd"}]}),
        "events" => json!({"id": id_or("evt_", true, rng), "object": "event",
            "type": pick(rng, &["charge.succeeded", "invoice.paid", "customer.updated",
                "payment_intent.created"]),
            "created": created, "data": {"object": {"id": stripe_id(rng, "ch_", true),
                "object": "charge"}}}),
        "country_specs" => json!({"id": c.last(), "object": "country_spec",
            "default_currency": pick(rng, &["usd", "eur", "gbp", "jpy"]),
                "supported_payment_currencies": ["usd", "eur"]}),
        "payment_methods" | "sources" => {
            json!({"id": id_or("pm_", true, rng), "object": "payment_method", "type": "card",
            "card": {"brand": pick(rng, &["visa", "mastercard", "amex"]), "last4": digits(rng, 4),
                "exp_month": rng.range(1, 12), "exp_year": rng.range(2026, 2031)},
                    "customer": customer})
        }
        "balance_transactions" => {
            json!({"id": stripe_id(rng, "cbtxn_", true), "object": "customer_balance_transaction",
            "amount": rng.range(100, 5_000), "currency": "usd", "customer": customer,
                "type": "adjustment"})
        }
        "sessions" => {
            json!({"id": id_or("cs_test_", true, rng), "object": "checkout.session",
                "status": "complete",
            "payment_status": "paid", "amount_total": rng.range(500, 30_000), "currency": "usd"})
        }
        _ => json!({"id": id_or("obj_", false, rng), "object": noun}),
    }
}

fn stripe_body(c: &Ctx, rng: &mut SplitMix64) -> Value {
    if c.op.method == "DELETE" && c.noun == "customers" {
        return json!({"id": c.last(), "object": "customer", "deleted": true});
    }
    let list_nouns = [
        "customers",
        "charges",
        "refunds",
        "payment_methods",
        "balance_transactions",
    ];
    if c.op.method == "GET" && !c.item && (list_nouns.contains(&c.noun) || c.noun == "search") {
        let n = n_items(rng);
        let noun = if c.noun == "search" {
            "customers"
        } else {
            c.noun
        };
        let data = list(rng, n, |r| stripe_obj(c, noun, None, r));
        let object = if c.noun == "search" {
            "search_result"
        } else {
            "list"
        };
        return json!({"object": object, "data": data, "has_more": rng.chance(1, 4), "url": c.path});
    }
    let id = if c.item {
        Some(c.last().to_string())
    } else {
        None
    };
    // Actions (`/v1/charges/{charge}/capture`) answer with their object.
    let noun = c.noun;
    let id = match noun {
        "confirm" | "cancel" | "increment_authorization" => c.val("intent").map(str::to_string),
        "capture" => c.val("charge").map(str::to_string),
        "pay" => c.val("invoice").map(str::to_string),
        _ => id,
    };
    stripe_obj(c, noun, id, rng)
}

fn sp_artist(rng: &mut SplitMix64, id: Option<&str>) -> Value {
    let id = id.map(str::to_string).unwrap_or_else(|| b62(rng, 22));
    json!({"id": id, "name": full_name(rng), "type": "artist",
        "uri": format!("spotify:artist:{id}"),
        "genres": [pick(rng, GENRES)], "popularity": rng.below(100),
            "followers": {"total": rng.below(5_000_000)}})
}

fn sp_track(rng: &mut SplitMix64, id: Option<&str>) -> Value {
    let id = id.map(str::to_string).unwrap_or_else(|| b62(rng, 22));
    json!({"id": id, "name": sentence(rng, 3), "type": "track",
        "uri": format!("spotify:track:{id}"),
        "duration_ms": rng.range(90_000, 420_000), "explicit": rng.chance(1, 5),
            "popularity": rng.below(100),
        "artists": [{"id": b62(rng, 22), "name": full_name(rng)}]})
}

fn sp_album(rng: &mut SplitMix64, id: Option<&str>) -> Value {
    let id = id.map(str::to_string).unwrap_or_else(|| b62(rng, 22));
    json!({"id": id, "name": sentence(rng, 2), "album_type": pick(rng, &["album", "single"]),
        "release_date": date_of(past_secs(rng, 3000)), "total_tracks": rng.range(1, 18),
            "uri": format!("spotify:album:{id}")})
}

fn sp_playlist(rng: &mut SplitMix64, id: Option<&str>) -> Value {
    let id = id.map(str::to_string).unwrap_or_else(|| b62(rng, 22));
    json!({"id": id, "name": sentence(rng, 3), "public": rng.chance(2, 3), "collaborative": false,
        "owner": {"id": pick(rng, HANDLES).to_ascii_lowercase(), "type": "user"},
        "tracks": {"total": rng.below(400)}, "snapshot_id": b62(rng, 32),
            "uri": format!("spotify:playlist:{id}")})
}

fn sp_page(c: &Ctx, items: Value, rng: &mut SplitMix64) -> Value {
    let n = items.as_array().map_or(0, Vec::len) as u64;
    json!({"href": format!("https://api.spotify.com{}", c.path), "items": items, "limit": 20,
        "next": Value::Null, "offset": 0, "previous": Value::Null, "total": n + rng.below(200)})
}

fn spotify_body(c: &Ctx, rng: &mut SplitMix64) -> Option<Value> {
    let n = n_items(rng);
    let id = if c.item { Some(c.last()) } else { None };
    Some(match c.noun {
        "me" | "users" => {
            let uid = id
                .map(str::to_string)
                .unwrap_or_else(|| pick(rng, HANDLES).to_ascii_lowercase());
            json!({"id": uid, "display_name": full_name(rng), "type": "user",
                "uri": format!("spotify:user:{uid}"),
                "followers": {"total": rng.below(2_000)}, "country": pick(rng, &["SE", "US", "DE",
                    "BR"]),
                "product": pick(rng, &["premium", "free"])})
        }
        "playlists" if c.item => sp_playlist(rng, id),
        "playlists" if c.op.method == "POST" => sp_playlist(rng, None),
        "playlists" | "featured-playlists" => {
            let items = list(rng, n, |r| sp_playlist(r, None));
            let page = sp_page(c, items, rng);
            if c.noun == "featured-playlists" {
                json!({"message": "Popular Playlists", "playlists": page})
            } else {
                page
            }
        }
        "tracks" if c.op.method == "PUT" => return None,
        "tracks" if c.op.method == "POST" => json!({"snapshot_id": b62(rng, 32)}),
        "tracks" if c.item => sp_track(rng, id),
        "tracks" => {
            let items = list(rng, n, |r| {
                let t = sp_track(r, None);
                json!({"added_at": iso_time(past_secs(r, 500)), "track": t})
            });
            sp_page(c, items, rng)
        }
        "currently-playing" => {
            let t = sp_track(rng, None);
            json!({"timestamp": c.secs * 1000, "progress_ms": rng.below(200_000),
                "is_playing": true,
                "item": t, "currently_playing_type": "track"})
        }
        "top" => {
            let artists = c.last() == "artists";
            let items = list(rng, n, |r| {
                if artists {
                    sp_artist(r, None)
                } else {
                    sp_track(r, None)
                }
            });
            sp_page(c, items, rng)
        }
        "artists" => sp_artist(rng, id),
        "top-tracks" => json!({"tracks": list(rng, n + 1, |r| sp_track(r, None))}),
        "related-artists" => json!({"artists": list(rng, n + 1, |r| sp_artist(r, None))}),
        "albums" if c.item => sp_album(rng, id),
        "albums" => {
            let items = list(rng, n, |r| sp_album(r, None));
            sp_page(c, items, rng)
        }
        "audio-features" => json!({"id": c.last(), "danceability": rng.below(1000) as f64 / 1000.0,
            "energy": rng.below(1000) as f64 / 1000.0, "tempo": rng.range(60_000,
                180_000) as f64 / 1000.0,
            "key": rng.below(12), "mode": rng.below(2), "duration_ms": rng.range(90_000, 420_000)}),
        "categories" if c.item => json!({"id": c.last(), "name": c.last().replace('_', " "),
            "href": format!("https://api.spotify.com/v1/browse/categories/{}", c.last()),
            "icons": [{"url": format!("https://t.scdn.co/images/{}.jpg", hex(rng, 32)),
                "height": 274, "width": 274}]}),
        "categories" => {
            let items = list(rng, n + 1, |r| {
                let id = pick(r, CATEGORIES);
                json!({"id": id, "name": id.replace('_', " ")})
            });
            json!({"categories": sp_page(c, items, rng)})
        }
        "new-releases" => {
            let items = list(rng, n, |r| sp_album(r, None));
            json!({"albums": sp_page(c, items, rng)})
        }
        "search" => {
            let items = list(rng, n, |r| sp_track(r, None));
            json!({"tracks": sp_page(c, items, rng)})
        }
        "views" => {
            let items = list(rng, n, |r| sp_playlist(r, None));
            json!({"id": c.last(), "name": "Made For You", "content": sp_page(c, items, rng)})
        }
        "recently-played" => {
            let items = list(rng, n, |r| {
                let t = sp_track(r, None);
                json!({"track": t, "played_at": iso_time(past_secs(r, 3))})
            });
            json!({"items": items, "next": Value::Null, "limit": 20})
        }
        _ => json!({}),
    })
}

fn k8s_kind(noun: &str, template: &str) -> (&'static str, &'static str) {
    let group = if template.starts_with("/apis/apps/v1") {
        "apps/v1"
    } else if template.starts_with("/apis/batch/v1") {
        "batch/v1"
    } else if template.starts_with("/apis/coordination.k8s.io/v1") {
        "coordination.k8s.io/v1"
    } else if template.starts_with("/apis/networking.k8s.io/v1") {
        "networking.k8s.io/v1"
    } else if template.starts_with("/apis/policy/v1beta1") {
        "policy/v1beta1"
    } else if template.starts_with("/apis/metrics.k8s.io/v1beta1") {
        "metrics.k8s.io/v1beta1"
    } else {
        "v1"
    };
    let kind = match noun {
        "namespaces" => "Namespace",
        "pods" if group == "metrics.k8s.io/v1beta1" => "PodMetrics",
        "pods" => "Pod",
        "services" => "Service",
        "configmaps" => "ConfigMap",
        "secrets" => "Secret",
        "endpoints" => "Endpoints",
        "events" => "Event",
        "nodes" => "Node",
        "deployments" => "Deployment",
        "jobs" => "Job",
        "leases" => "Lease",
        "ingresses" => "Ingress",
        "poddisruptionbudgets" => "PodDisruptionBudget",
        "scale" => return ("Scale", "autoscaling/v1"),
        _ => "Status",
    };
    (kind, group)
}

fn k8s_object(c: &Ctx, name: Option<&str>, rng: &mut SplitMix64) -> Value {
    let (kind, api_version) = k8s_kind(c.noun, c.op.template);
    let ns = c.val("namespace");
    let app = pick(rng, K8S_APPS);
    let name = name.map(str::to_string).unwrap_or_else(|| match kind {
        "Pod" | "PodMetrics" => format!(
            "{app}-{}-{}",
            chars(rng, K8S_ALNUM, 10),
            chars(rng, K8S_ALNUM, 5)
        ),
        "Namespace" => pick(rng, NAMESPACES).to_string(),
        "Node" => format!(
            "ip-10-0-{}-{}.eu-west-1.compute.internal",
            rng.below(64),
            rng.range(1, 254)
        ),
        _ => app.to_string(),
    });
    let mut meta = json!({"name": name, "uid": uuid_v4(rng), "resourceVersion": rng.range(100_000,
        99_999_999).to_string(),
        "creationTimestamp": iso_time(past_secs(rng, 120)), "labels": {"app": app}});
    if let (Some(ns), Value::Object(m)) = (ns, &mut meta) {
        m.insert("namespace".into(), json!(ns));
        if c.op.method == "DELETE" {
            m.insert("deletionTimestamp".into(), json!(iso_time(c.secs)));
        }
    }
    let mut obj = json!({"kind": kind, "apiVersion": api_version, "metadata": meta});
    let extra = match kind {
        "Pod" => {
            json!({"spec": {"nodeName": format!("ip-10-0-{}-{}.eu-west-1.compute.internal",
                rng.below(64), rng.range(1, 254)),
                "containers": [{"name": "app",
                    "image": format!("registry.example.com/{app}:1.{}.{}", rng.below(40),
                        rng.below(10))}]},
            "status": {"phase": pick(rng, &["Running", "Running", "Pending", "Succeeded"]),
                "podIP": format!("10.244.{}.{}", rng.below(32), rng.range(2, 254))}})
        }
        "Deployment" => {
            let r = rng.range(1, 12);
            json!({"spec": {"replicas": r}, "status": {"replicas": r, "readyReplicas": r,
                "updatedReplicas": r}})
        }
        "Scale" => {
            let r = rng.range(1, 12);
            json!({"spec": {"replicas": r}, "status": {"replicas": r,
                "selector": format!("app={app}")}})
        }
        "Service" => {
            json!({"spec": {"type": "ClusterIP", "clusterIP": format!("10.96.{}.{}",
                rng.below(256), rng.range(2, 254)),
            "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}})
        }
        "ConfigMap" => json!({"data": {"LOG_LEVEL": "info", "FEATURE_NEW_CHECKOUT": "true"}}),
        "Secret" => {
            json!({"type": "Opaque", "data": {"username": "YXBw", "password": b62(rng, 24)}})
        }
        "Node" => json!({"status": {"capacity": {"cpu": "8", "memory": "32562752Ki"},
            "nodeInfo": {"kubeletVersion": "v1.29.2", "osImage": "Bottlerocket OS 1.19.2"}}}),
        "Job" => json!({"status": {"succeeded": 1, "startTime": iso_time(past_secs(rng, 1))}}),
        "Lease" => {
            json!({"spec": {"holderIdentity": format!("{app}-{}", chars(rng, K8S_ALNUM, 5)),
                "leaseDurationSeconds": 15}})
        }
        "PodMetrics" => {
            json!({"containers": [{"name": "app", "usage": {"cpu": format!("{}m", rng.range(1,
                900)), "memory": format!("{}Ki", rng.range(20_000, 900_000))}}]})
        }
        "Ingress" => json!({"spec": {"rules": [{"host": format!("{app}.example.com")}]}}),
        _ => json!({}),
    };
    if let (Value::Object(o), Value::Object(e)) = (&mut obj, extra) {
        o.extend(e);
    }
    obj
}

/// (Content-Type, body) of a successful Kubernetes response.
fn k8s_body(c: &Ctx, rng: &mut SplitMix64) -> (&'static str, Vec<u8>) {
    match c.noun {
        "log" => {
            let mut s = String::new();
            for _ in 0..(2 + rng.below(6)) {
                s.push_str(&format!(
                    "{}.{}Z level={} msg=\"{}\"\n",
                    &iso_time(past_secs(rng, 1))[..19],
                    digits(rng, 6),
                    pick(rng, &["info", "info", "warn", "error"]),
                    sentence(rng, 5)
                ));
            }
            ("text/plain", s.into_bytes())
        }
        "metrics" => {
            let s = format!(
                "# HELP apiserver_request_total Counter of apiserver requests.\n# TYPE apiserver_request_total counter\napiserver_request_total{{code=\"200\",verb=\"GET\"}} {}\napiserver_request_total{{code=\"404\",verb=\"GET\"}} {}\n",
                rng.range(10_000, 9_999_999),
                rng.range(10, 9_999)
            );
            ("text/plain; version=0.0.4; charset=utf-8", s.into_bytes())
        }
        "readyz" => ("text/plain; charset=utf-8", b"ok".to_vec()),
        "version" => (
            "application/json",
            to_json(&json!({"major": "1", "minor": "29", "gitVersion": "v1.29.2"})),
        ),
        _ => {
            let v = if c.item || c.op.method != "GET" {
                let name = if c.item { Some(c.last()) } else { None };
                k8s_object(c, name, rng)
            } else {
                let (kind, api_version) = k8s_kind(c.noun, c.op.template);
                let n = n_items(rng) + 1;
                let items = list(rng, n, |r| k8s_object(c, None, r));
                json!({"kind": format!("{kind}List"), "apiVersion": api_version,
                    "metadata": {"resourceVersion": rng.range(100_000, 99_999_999).to_string()},
                        "items": items})
            };
            ("application/json", to_json(&v))
        }
    }
}

fn pet(rng: &mut SplitMix64, id: u64) -> Value {
    json!({
        "id": id,
        "category": {"id": rng.range(1, 5), "name": pick(rng, &["Dogs", "Cats", "Birds", "Fish"])},
        "name": pick(rng, &["doggie", "Rex", "Bella", "Milo", "Luna", "Kitty"]),
        "photoUrls": [format!("https://example.com/photos/{}.jpg", hex(rng, 8))],
        "tags": [{"id": rng.range(1, 9), "name": pick(rng, &["friendly", "tag1", "vaccinated"])}],
        "status": pick(rng, &["available", "pending", "sold"]),
    })
}

fn order(rng: &mut SplitMix64, id: u64) -> Value {
    json!({"id": id, "petId": rng.range(1, 99_999), "quantity": rng.range(1, 3),
        "shipDate": format!("{}.000+0000", &iso_time(past_secs(rng, 30))[..19]),
        "status": pick(rng, &["placed", "approved", "delivered"]), "complete": rng.chance(1, 2)})
}

fn pet_user(rng: &mut SplitMix64, username: &str) -> Value {
    let first = pick(rng, FIRST_NAMES);
    let last = pick(rng, LAST_NAMES);
    json!({"id": rng.range(1, 99_999), "username": username, "firstName": first, "lastName": last,
        "email": format!("{}.{}@example.com", first.to_ascii_lowercase(),
            last.to_ascii_lowercase()),
        "password": b62(rng, 10), "phone": format!("+1-555-{}", digits(rng, 4)),
            "userStatus": rng.below(3)})
}

fn api_response(code: u64, message: String) -> Value {
    json!({"code": code, "type": "unknown", "message": message})
}

fn petstore_body(c: &Ctx, rng: &mut SplitMix64) -> Value {
    match (c.op.method, c.noun) {
        ("GET", "pet") => {
            let id = num(Some(c.last()), rng);
            pet(rng, id)
        }
        ("POST" | "PUT", "pet") if !c.item => {
            let id = rng.range(1, 99_999);
            pet(rng, id)
        }
        (_, "findByStatus" | "findByTags") => {
            let n = n_items(rng) + 1;
            list(rng, n, |r| {
                let id = r.range(1, 99_999);
                pet(r, id)
            })
        }
        (_, "uploadImage") => api_response(
            200,
            format!(
                "additionalMetadata: profile\nFile uploaded to ./dog.png, {} bytes",
                rng.range(1_000, 90_000)
            ),
        ),
        (_, "inventory") => {
            json!({"available": rng.below(900), "pending": rng.below(90), "sold": rng.below(400)})
        }
        ("GET", "order") => {
            let id = num(Some(c.last()), rng);
            order(rng, id)
        }
        ("POST", "order") => {
            let id = rng.range(1, 10);
            order(rng, id)
        }
        (_, "login") => api_response(
            200,
            format!("logged in user session:{}", c.secs * 1000 + rng.below(1000)),
        ),
        ("GET", "user") => pet_user(rng, c.last()),
        (_, "vaccinations") => json!([{"vaccine": "rabies", "date": date_of(past_secs(rng, 300))}]),
        (_, "health") => json!({"status": "UP"}),
        ("DELETE", _) => api_response(200, c.last().to_string()),
        _ => api_response(200, "ok".to_string()),
    }
}

fn money(rng: &mut SplitMix64, lo: u64, hi: u64) -> Value {
    json!({"amount": rng.range(lo, hi) as f64 / 100.0, "currency": pick(rng, &["EUR", "USD"])})
}

fn shop_obj(c: &Ctx, noun: &str, id: Option<&str>, rng: &mut SplitMix64) -> Value {
    match noun {
        "me" | "users" => {
            json!({"id": id.map(str::to_string).unwrap_or_else(|| uuid_v4(rng)),
                "email": email(rng),
            "name": full_name(rng), "locale": pick(rng, &["en-GB", "de-DE", "fr-FR", "en-US"]),
            "roles": ["customer"], "created_at": iso_time(past_secs(rng, 900))})
        }
        "addresses" => {
            json!({"id": rng.range(1, 99_999), "line1": format!("{} {} Street", rng.range(1, 200),
                pick(rng, LAST_NAMES)),
            "city": pick(rng, &["Berlin", "Lyon", "Austin", "Leeds"]), "postal_code": digits(rng,
                5),
            "country": pick(rng, &["DE", "FR", "US", "GB"])})
        }
        "by-email" | "customers" => {
            json!({"id": id.filter(|v| !v.contains('@')).map(str::to_string)
                .unwrap_or_else(|| gen_value(ValueKind::ObjectId, rng)),
            "email": c.val("email").map(str::to_string).unwrap_or_else(|| email(rng)),
            "name": full_name(rng), "orders_count": rng.below(60), "lifetime_value": money(rng, 0,
                900_000)})
        }
        "shops" => {
            json!({"id": id.unwrap_or("acme-outdoor"), "name": sentence(rng, 2), "currency": "EUR",
            "country": pick(rng, &["DE", "NL", "US"]), "status": "active"})
        }
        "orders" => {
            json!({"id": id.map_or_else(|| rng.range(1_000_000, 9_999_999),
                |v| v.parse().unwrap_or(0)),
            "shop_id": c.val("shopId").unwrap_or("acme-outdoor"), "status": pick(rng, &["paid",
                "shipped", "open", "cancelled"]),
            "total": money(rng, 500, 90_000), "items_count": rng.range(1, 6),
                "created_at": iso_time(past_secs(rng, 60))})
        }
        "items" => json!({"id": id.map_or_else(|| rng.range(1, 12), |v| v.parse().unwrap_or(0)),
            "sku": gen_value(ValueKind::Sku, rng), "quantity": rng.range(1, 4),
                "unit_price": money(rng, 300, 20_000)}),
        "refunds" => {
            json!({"id": uuid_v4(rng), "status": "pending", "amount": money(rng, 100, 9_999)})
        }
        "products" => {
            json!({"sku": id.map(str::to_string).unwrap_or_else(|| gen_value(ValueKind::Sku, rng)),
            "name": sentence(rng, 3), "price": money(rng, 300, 40_000), "stock": rng.below(500)})
        }
        "reviews" => {
            json!({"id": rng.range(1, 999_999), "rating": rng.range(1, 5), "title": sentence(rng,
                4),
            "author": pick(rng, FIRST_NAMES), "created_at": iso_time(past_secs(rng, 200))})
        }
        "inventory" => {
            json!({"sku": c.val("sku"), "warehouse": c.last(), "on_hand": rng.below(400),
                "reserved": rng.below(40)})
        }
        "carts" | "checkout" => {
            let n = 1 + rng.index(3);
            let items = list(rng, n, |r| shop_obj(c, "items", None, r));
            json!({"id": c.val("cartId"), "items": items, "total": money(rng, 500, 60_000),
                "status": if noun == "checkout" { "ordered" } else { "open" }})
        }
        "daily" | "monthly" => {
            json!({"period": c.last(), "orders": rng.below(20_000), "revenue": money(rng, 10_000,
                90_000_000),
            "refunds": rng.below(300), "top_skus": [gen_value(ValueKind::Sku, rng),
                gen_value(ValueKind::Sku, rng)]})
        }
        "login" | "refresh" => {
            json!({"access_token": format!("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
                b64url(rng, 96), b64url(rng, 43)),
            "token_type": "Bearer", "expires_in": 3600, "refresh_token": b64url(rng, 48)})
        }
        "healthz" => json!({"status": "ok", "version": "2.14.0", "uptime_s": rng.below(9_000_000)}),
        "impersonate" => json!({"token": b64url(rng, 64), "expires_in": 900}),
        "cache" => {
            json!({"key": c.last(), "hits": rng.below(9_000_000),
                "size_bytes": rng.below(90_000_000), "ttl": 300})
        }
        "promotions" => json!({"code": c.last(), "percent_off": 10, "valid_until": "2026-03-31"}),
        _ => json!({"id": id}),
    }
}

/// (Content-Type, body) of a successful shop response.
fn shop_body(c: &Ctx, rng: &mut SplitMix64) -> (&'static str, Vec<u8>) {
    let ct = json_ct(ApiStyle::Shop);
    match c.noun {
        "pdf" => {
            let mut b = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n".to_vec();
            b.extend_from_slice(b62(rng, 120).as_bytes());
            b.extend_from_slice(b"\n%%EOF\n");
            ("application/pdf", b)
        }
        "metrics" => (
            "text/plain; version=0.0.4",
            format!(
                "http_requests_total{{route=\"/api/v2/products\"}} {}\nhttp_requests_total{{route=\"/api/v2/carts\"}} {}\n",
                rng.below(9_999_999),
                rng.below(999_999)
            )
            .into_bytes(),
        ),
        _ => {
            let v = if c.op.method == "GET" && !c.item && matches!(c.noun,
                "addresses" | "orders" | "items" | "products" | "reviews") {
                let n = n_items(rng);
                let data = list(rng, n, |r| shop_obj(c, c.noun, None, r));
                json!({"data": data, "page": 1, "size": 25, "total": n as u64 + rng.below(400)})
            } else {
                let id = if c.item { Some(c.last()) } else { None };
                shop_obj(c, c.noun, id, rng)
            };
            (ct, to_json(&v))
        }
    }
}

fn slack_body(c: &Ctx, rng: &mut SplitMix64) -> Value {
    if !c.authed {
        return json!({"ok": false, "error": "not_authed"});
    }
    if (c.noun.starts_with("conversations.") || c.noun.starts_with("chat.")) && rng.chance(3, 100) {
        return json!({"ok": false, "error": "channel_not_found"});
    }
    let ch = slack_channel(rng);
    let ts = format!("{}.{}", c.secs, digits(rng, 6));
    match c.noun {
        "chat.postMessage" | "chat.update" => json!({"ok": true, "channel": ch, "ts": ts,
            "message": {"type": "message", "text": sentence(rng, 8), "user": slack_user(rng),
                "ts": ts}}),
        "chat.delete" => json!({"ok": true, "channel": ch, "ts": ts}),
        "conversations.list" => {
            let n = n_items(rng) + 1;
            let chans = list(rng, n, |r| {
                json!({"id": slack_channel(r), "name": pick(r, TEAMS), "is_channel": true,
                    "num_members": r.range(2, 900)})
            });
            json!({"ok": true, "channels": chans, "response_metadata": {"next_cursor": ""}})
        }
        "conversations.history" | "channels.history" => {
            let n = n_items(rng);
            let msgs = list(rng, n, |r| {
                json!({"type": "message", "user": slack_user(r), "text": sentence(r, 7),
                "ts": format!("{}.{}", past_secs(r, 3), digits(r, 6))})
            });
            json!({"ok": true, "messages": msgs, "has_more": false})
        }
        "conversations.info" | "conversations.join" => {
            json!({"ok": true, "channel": {"id": ch, "name": pick(rng, TEAMS),
            "is_channel": true, "created": past_secs(rng, 900), "is_archived": false}})
        }
        "conversations.members" => {
            let n = n_items(rng) + 1;
            json!({"ok": true, "members": list(rng, n, |r| json!(slack_user(r))),
                "response_metadata": {"next_cursor": ""}})
        }
        "users.info" | "users.lookupByEmail" => json!({"ok": true, "user": {"id": slack_user(rng),
            "name": pick(rng, HANDLES).to_ascii_lowercase(), "real_name": full_name(rng),
                "tz": "Europe/Berlin", "is_bot": false}}),
        "users.list" => {
            let n = n_items(rng) + 1;
            let members = list(rng, n, |r| {
                json!({"id": slack_user(r), "name": pick(r, HANDLES).to_ascii_lowercase(),
                    "deleted": false})
            });
            json!({"ok": true, "members": members})
        }
        "auth.test" => {
            json!({"ok": true, "url": "https://acme.slack.com/", "team": "Acme",
                "user": "deploy-bot",
            "team_id": "T0A1B2C3D", "user_id": slack_user(rng), "bot_id": format!("B0{}",
                digits(rng, 8))})
        }
        "files.upload" => {
            json!({"ok": true, "file": {"id": format!("F0{}", digits(rng, 8)),
                "name": "report.csv", "size": rng.range(20, 9000)}})
        }
        "files.getUploadURLExternal" => {
            json!({"ok": true, "upload_url": format!("https://files.slack.com/upload/v1/{}",
                b62(rng, 40)),
            "file_id": format!("F0{}", digits(rng, 8))})
        }
        "team.info" => {
            json!({"ok": true, "team": {"id": "T0A1B2C3D", "name": "Acme", "domain": "acme"}})
        }
        "emoji.list" => {
            json!({"ok": true,
                "emoji": {"partyparrot": format!("https://emoji.slack-edge.com/T0A1B2C3D/partyparrot/{}.gif", hex(rng, 16)),
            "shipit": "alias:squirrel"}})
        }
        "client.counts" => {
            json!({"ok": true, "channels": [{"id": ch, "has_unreads": true,
                "mention_count": rng.below(5)}]})
        }
        "users.prefs.get" => {
            json!({"ok": true, "prefs": {"tz": "Europe/Berlin", "locale": "en-US"}})
        }
        _ => json!({"ok": true}),
    }
}

fn error_body(c: &Ctx, status: u16, rng: &mut SplitMix64) -> Value {
    let what = c.last();
    match c.api.style {
        ApiStyle::GitHub => {
            let message = match status {
                401 => "Bad credentials",
                404 => "Not Found",
                _ => "Validation Failed",
            };
            let mut v = json!({"message": message,
                "documentation_url": "https://docs.github.com/rest", "status": status.to_string()});
            if status == 422 {
                v["errors"] =
                    json!([{"resource": "Issue", "code": "missing_field", "field": "title"}]);
            }
            v
        }
        ApiStyle::Stripe => match status {
            401 => {
                json!({"error": {"message": "Invalid API Key provided: sk_test_****",
                    "type": "invalid_request_error"}})
            }
            404 => {
                json!({"error": {"code": "resource_missing",
                    "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                "message": format!("No such {}: '{what}'", c.noun.trim_end_matches('s')),
                    "param": "id",
                "request_log_url": format!("https://dashboard.stripe.com/test/logs/req_{}",
                    b62(rng, 14)), "type": "invalid_request_error"}})
            }
            _ => {
                json!({"error": {"code": "parameter_missing",
                    "message": "Missing required param: amount.", "param": "amount",
                "type": "invalid_request_error"}})
            }
        },
        ApiStyle::Spotify => {
            let message = match status {
                401 => "No token provided",
                404 => "Resource not found",
                _ => "Invalid request",
            };
            json!({"error": {"status": status, "message": message}})
        }
        ApiStyle::Kubernetes => {
            let (reason, message) = match status {
                401 => ("Unauthorized", "Unauthorized".to_string()),
                404 => ("NotFound", format!("{} \"{what}\" not found", c.noun)),
                _ => (
                    "BadRequest",
                    "the body of the request was in an unknown format".to_string(),
                ),
            };
            let mut v = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure",
                "message": message, "reason": reason, "code": status});
            if status == 404 {
                v["details"] = json!({"name": what, "kind": c.noun});
            }
            v
        }
        ApiStyle::Petstore => match status {
            404 => {
                json!({"code": 1, "type": "error", "message": format!("{} not found", match c.noun {
                "order" => "Order", "pet" | "uploadImage" | "vaccinations" => "Pet",
                    _ => "User" })})
            }
            _ => json!({"code": 400, "type": "unknown", "message": "bad input"}),
        },
        ApiStyle::Shop => {
            let (code, message) = match status {
                401 => ("unauthorized", "missing or expired token".to_string()),
                404 => (
                    "not_found",
                    format!("{} {what} not found", c.noun.trim_end_matches('s')),
                ),
                _ => (
                    "validation_failed",
                    "quantity must be greater than 0".to_string(),
                ),
            };
            json!({"error": {"code": code, "message": message, "request_id": uuid_v4(rng)}})
        }
        ApiStyle::Slack => json!({"ok": false, "error": "invalid_auth"}),
    }
}

/// Response body and Content-Type; `None`: no body at all.
fn response_body(c: &Ctx, status: u16, rng: &mut SplitMix64) -> Option<(&'static str, Vec<u8>)> {
    let style = c.api.style;
    if status == 204 {
        return None;
    }
    let json = |v: Value| Some((json_ct(style), to_json(&v)));
    if status >= 400 {
        return json(error_body(c, status, rng));
    }
    match style {
        ApiStyle::GitHub => json(github_body(c, rng)),
        ApiStyle::Stripe => json(stripe_body(c, rng)),
        ApiStyle::Spotify => match spotify_body(c, rng) {
            Some(v) => json(v),
            None => Some(("", Vec::new())),
        },
        ApiStyle::Kubernetes => Some(k8s_body(c, rng)),
        ApiStyle::Petstore => json(petstore_body(c, rng)),
        ApiStyle::Shop => Some(shop_body(c, rng)),
        ApiStyle::Slack => json(slack_body(c, rng)),
    }
}

// ------------------------------------------------------------ messages

fn accept(style: ApiStyle) -> &'static str {
    match style {
        ApiStyle::GitHub => "application/vnd.github+json",
        ApiStyle::Kubernetes => "application/json, */*",
        ApiStyle::Slack => "*/*",
        _ => "application/json",
    }
}

/// What stays the same for every request of one connection.
struct ConnCtx {
    host_header: String,
    ua: &'static str,
    cred: Option<(&'static str, String)>,
}

fn request_bytes(
    c: &Ctx,
    target: &str,
    cc: &ConnCtx,
    body: Option<&(String, Vec<u8>)>,
    close: bool,
    rng: &mut SplitMix64,
) -> Vec<u8> {
    let style = c.api.style;
    let mut h = format!(
        "{} {target} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: {}\r\n",
        c.op.method,
        cc.host_header,
        cc.ua,
        accept(style)
    );
    match style {
        ApiStyle::GitHub => h.push_str("X-GitHub-Api-Version: 2022-11-28\r\n"),
        ApiStyle::Stripe => {
            h.push_str("Stripe-Version: 2024-06-20\r\n");
            if c.op.method == "POST" {
                h.push_str(&format!("Idempotency-Key: {}\r\n", uuid_v4(rng)));
            }
        }
        ApiStyle::Kubernetes if cc.ua.starts_with("kubectl") => {
            let verb = match c.op.method {
                "GET" => "get",
                "DELETE" => "delete",
                "PATCH" => "rollout",
                _ => "apply",
            };
            h.push_str(&format!(
                "Kubectl-Command: kubectl {verb}\r\nKubectl-Session: {}\r\n",
                uuid_v4(rng)
            ));
        }
        ApiStyle::Shop if rng.chance(1, 2) => {
            h.push_str("Accept-Language: en-GB,en;q=0.9\r\n");
        }
        _ => {}
    }
    if let Some((name, value)) = &cc.cred {
        h.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some((ct, b)) = body {
        h.push_str(&format!(
            "Content-Type: {ct}\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    if close {
        h.push_str("Connection: close\r\n");
    }
    h.push_str("\r\n");
    let mut out = h.into_bytes();
    if let Some((_, b)) = body {
        out.extend_from_slice(b);
    }
    out
}

fn response_bytes(
    c: &Ctx,
    status: u16,
    body: Option<(&'static str, Vec<u8>)>,
    close: bool,
    rng: &mut SplitMix64,
) -> Vec<u8> {
    let style = c.api.style;
    let mut h = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    let server = match style {
        ApiStyle::GitHub => Some("github.com"),
        ApiStyle::Stripe => Some("nginx"),
        ApiStyle::Spotify => Some("envoy"),
        ApiStyle::Kubernetes => None,
        ApiStyle::Petstore => Some("Jetty(9.2.9.v20150224)"),
        ApiStyle::Shop => Some("nginx/1.25.3"),
        ApiStyle::Slack => Some("Apache"),
    };
    if let Some(s) = server {
        h.push_str(&format!("Server: {s}\r\n"));
    }
    h.push_str(&format!("Date: {}\r\n", http_date(c.secs)));
    if let Some((ct, b)) = &body {
        if !ct.is_empty() {
            h.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        h.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    match style {
        ApiStyle::GitHub => {
            h.push_str(&format!(
                "X-RateLimit-Limit: 5000\r\nX-RateLimit-Remaining: {}\r\nX-GitHub-Request-Id: {}:{}:{}:{}:{}\r\n",
                rng.below(5000),
                hex(rng, 4).to_ascii_uppercase(),
                hex(rng, 5).to_ascii_uppercase(),
                hex(rng, 6).to_ascii_uppercase(),
                hex(rng, 7).to_ascii_uppercase(),
                hex(rng, 8).to_ascii_uppercase()
            ));
            if status == 200 && c.op.method == "GET" {
                h.push_str(&format!("ETag: W/\"{}\"\r\n", hex(rng, 32)));
            }
        }
        ApiStyle::Stripe => h.push_str(&format!(
            "Request-Id: req_{}\r\nStripe-Version: 2024-06-20\r\n",
            b62(rng, 14)
        )),
        ApiStyle::Spotify => h.push_str("Cache-Control: private, max-age=0\r\n"),
        ApiStyle::Kubernetes => h.push_str(&format!(
            "Audit-Id: {}\r\nCache-Control: no-cache, private\r\n",
            uuid_v4(rng)
        )),
        ApiStyle::Petstore => {
            h.push_str("Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: GET, POST, DELETE, PUT\r\n");
            if c.noun == "login" && status == 200 {
                h.push_str(&format!(
                    "X-Rate-Limit: 5000\r\nX-Expires-After: {}\r\n",
                    http_date(c.secs + 3600)
                ));
            }
        }
        ApiStyle::Shop => h.push_str(&format!(
            "X-Request-Id: {}\r\nVary: Accept-Encoding\r\n",
            uuid_v4(rng)
        )),
        ApiStyle::Slack => h.push_str(&format!(
            "X-Slack-Req-Id: {}\r\nX-OAuth-Scopes: chat:write,channels:read,users:read\r\n",
            hex(rng, 32)
        )),
    }
    if close {
        h.push_str("Connection: close\r\n");
    }
    h.push_str("\r\n");
    let mut out = h.into_bytes();
    if let Some((_, b)) = body {
        out.extend_from_slice(&b);
    }
    out
}

// ------------------------------------------------------------ clients

#[derive(Debug, Clone)]
struct Client {
    ip: IpAddr,
    port: u16,
}

impl Client {
    /// Next ephemeral port (32768..=60999, increasing).
    fn next_port(&mut self, rng: &mut SplitMix64) -> u16 {
        self.port = if self.port >= 60_990 {
            32_768 + rng.below(100) as u16
        } else {
            self.port + 1 + rng.below(7) as u16
        };
        self.port
    }
}

/// Client ids in popularity order with their cumulative weights.
type Ranked = (Vec<usize>, Vec<u64>);

struct Clients {
    list: Vec<Client>,
    internal: Ranked,
    v4: Ranked,
    all: Ranked,
}

const CLIENTS: usize = 200;
const INTERNAL_CLIENTS: usize = 70;
const V4_CLIENTS: usize = 172;

fn make_clients(rng: &mut SplitMix64) -> Clients {
    let mut list: Vec<Client> = Vec::with_capacity(CLIENTS);
    while list.len() < CLIENTS {
        let i = list.len();
        let ip = if i < INTERNAL_CLIENTS {
            if i % 3 == 0 {
                IpAddr::V4(Ipv4Addr::new(
                    192,
                    168,
                    rng.below(4) as u8,
                    rng.range(2, 254) as u8,
                ))
            } else {
                IpAddr::V4(Ipv4Addr::new(
                    10,
                    rng.below(48) as u8,
                    rng.below(256) as u8,
                    rng.range(2, 254) as u8,
                ))
            }
        } else if i < V4_CLIENTS {
            let host = rng.range(1, 254) as u8;
            match i % 5 {
                0 | 1 => IpAddr::V4(Ipv4Addr::new(198, 51, 100, host)),
                2 | 3 => IpAddr::V4(Ipv4Addr::new(203, 0, 113, host)),
                _ => IpAddr::V4(Ipv4Addr::new(
                    100,
                    64 + rng.below(64) as u8,
                    rng.below(256) as u8,
                    host,
                )),
            }
        } else {
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                0x1000 + rng.below(0x100) as u16,
                rng.below(0x10000) as u16,
                0,
                0,
                0,
                rng.range(1, 0xfffe) as u16,
            ))
        };
        if list.iter().all(|c| c.ip != ip) {
            let port = 32_768 + rng.below(20_000) as u16;
            list.push(Client { ip, port });
        }
    }
    let mut ranked = |ids: Vec<usize>| -> Ranked {
        let mut ids = ids;
        rng.shuffle(&mut ids);
        let cum = zipf_cum(ids.len(), false);
        (ids, cum)
    };
    let internal = ranked((0..INTERNAL_CLIENTS).collect());
    let v4 = ranked((0..V4_CLIENTS).collect());
    let all = ranked((0..CLIENTS).collect());
    Clients {
        list,
        internal,
        v4,
        all,
    }
}

impl Clients {
    fn choose(&self, api: &ApiDef, host: &HostDef, rng: &mut SplitMix64) -> usize {
        let (ids, cum) = match (api.audience, host.ipv6.is_some()) {
            (Audience::Internal, _) => &self.internal,
            (Audience::Mixed, true) => &self.all,
            (Audience::Mixed, false) => &self.v4,
        };
        ids[draw_cum(cum, rng)]
    }
}

/// A generator stream for one (client, API) pair: its credentials stay the
/// same on every connection.
fn client_rng(seed: u64, client: usize, api: usize) -> SplitMix64 {
    SplitMix64::new(
        seed ^ (client as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (api as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
    )
}

// ------------------------------------------------------------ plan

/// One TCP connection to plan: API, host and operations in call order.
#[derive(Debug, Clone)]
struct Planned {
    api: usize,
    host: usize,
    ops: Vec<usize>,
}

fn weighted(shares: &[u64], rng: &mut SplitMix64) -> usize {
    let total: u64 = shares.iter().sum();
    let mut x = rng.below(total);
    for (i, &s) in shares.iter().enumerate() {
        if x < s {
            return i;
        }
        x -= s;
    }
    shares.len().saturating_sub(1)
}

fn conn_len(rng: &mut SplitMix64) -> usize {
    match rng.below(100) {
        0..=29 => 1,
        30..=74 => 2 + rng.index(3),
        _ => 5 + rng.index(6),
    }
}

/// Spreads `calls` over the called operations: each once while calls
/// last, the rest to an API by [`ApiDef::weight`], then to one of its
/// operations Zipf-like by a shuffled rank (shadow and deprecated ones
/// kept out of the top quarter). Each (API, host) queue is then cut into
/// keep-alive connections.
fn plan(calls: usize, rng: &mut SplitMix64) -> Vec<Planned> {
    let cat = catalogue();
    let mut counts: Vec<Vec<usize>> = cat.iter().map(|a| vec![0; a.operations.len()]).collect();
    let mut firsts: Vec<(usize, usize)> = Vec::new();
    let mut ranks: Vec<(Vec<usize>, Vec<u64>)> = Vec::new();
    for (a, api) in cat.iter().enumerate() {
        let mut ids: Vec<usize> = (0..api.operations.len())
            .filter(|&i| api.operations[i].called)
            .collect();
        firsts.extend(ids.iter().map(|&i| (a, i)));
        rng.shuffle(&mut ids);
        let quarter = ids.len() / 4;
        let (mut order, special): (Vec<usize>, Vec<usize>) = ids.into_iter().partition(|&i| {
            let o = &api.operations[i];
            o.documented && !o.deprecated
        });
        let mut tail = order.split_off(quarter.min(order.len()));
        tail.extend(special);
        rng.shuffle(&mut tail);
        order.extend(tail);
        let cum = zipf_cum(order.len(), true);
        ranks.push((order, cum));
    }
    rng.shuffle(&mut firsts);
    for &(a, i) in firsts.iter().take(calls) {
        counts[a][i] = 1;
    }
    let weights: Vec<u64> = cat.iter().map(|a| a.weight).collect();
    for _ in firsts.len().min(calls)..calls {
        let a = weighted(&weights, rng);
        let (order, cum) = &ranks[a];
        counts[a][order[draw_cum(cum, rng)]] += 1;
    }
    let mut queues: Vec<Vec<Vec<usize>>> = cat
        .iter()
        .map(|a| vec![Vec::new(); a.hosts.len()])
        .collect();
    for (a, api) in cat.iter().enumerate() {
        let shares: Vec<u64> = api.hosts.iter().map(|h| h.share).collect();
        for (i, &n) in counts[a].iter().enumerate() {
            for _ in 0..n {
                let h = weighted(&shares, rng);
                queues[a][h].push(i);
            }
        }
    }
    let mut conns = Vec::new();
    for (a, per_host) in queues.into_iter().enumerate() {
        for (h, mut q) in per_host.into_iter().enumerate() {
            rng.shuffle(&mut q);
            let mut rest = &q[..];
            while !rest.is_empty() {
                let n = conn_len(rng).min(rest.len());
                conns.push(Planned {
                    api: a,
                    host: h,
                    ops: rest[..n].to_vec(),
                });
                rest = &rest[n..];
            }
        }
    }
    rng.shuffle(&mut conns);
    conns
}

// ------------------------------------------------------------ generation

/// One labelled transaction.
#[derive(Debug, Clone)]
struct CallLabel {
    flow_index: usize,
    ts_us: u64,
    client: SocketAddr,
    server: SocketAddr,
    api: usize,
    op: usize,
    host: String,
    path: String,
    query: Option<String>,
    status: u16,
}

struct Generated {
    packets: Vec<(u64, Vec<u8>)>,
    calls: Vec<CallLabel>,
    connections: usize,
}

/// Mean time between connection starts.
const MEAN_GAP_US: u64 = 150_000;

fn host_header(h: &HostDef) -> String {
    if h.port == 80 || h.port == 443 {
        h.host.to_string()
    } else {
        format!("{}:{}", h.host, h.port)
    }
}

fn compile_all() -> Result<Vec<Vec<Vec<Seg>>>, SynthError> {
    catalogue()
        .iter()
        .map(|a| {
            a.operations
                .iter()
                .map(|o| compile(a, o.template))
                .collect()
        })
        .collect()
}

fn generate(opts: &ApiTrafficOptions) -> Result<Generated, SynthError> {
    if opts.calls == 0 || opts.calls > MAX_CALLS {
        return Err(SynthError::arg(format!(
            "calls must be in 1..={MAX_CALLS}, not {}",
            opts.calls
        )));
    }
    let cat = catalogue();
    let compiled = compile_all()?;
    let mut root = SplitMix64::new(opts.seed);
    let mut pool_rng = root.fork();
    let mut plan_rng = root.fork();
    let mut net = root.fork();
    let mut content = root.fork();
    let pools: Vec<Vec<Pool>> = cat
        .iter()
        .map(|a| {
            a.params
                .iter()
                .map(|d| Pool::new(d, &mut pool_rng))
                .collect()
        })
        .collect();
    let conns = plan(opts.calls, &mut plan_rng);
    let mut clients = make_clients(&mut net);
    let style = FrameStyle {
        pad_ethernet: true,
        ..FrameStyle::default()
    };
    let mut packets: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut calls: Vec<CallLabel> = Vec::with_capacity(opts.calls);
    let mut start = EPOCH_US;
    for (flow, pc) in conns.iter().enumerate() {
        if flow > 0 {
            start += 1 + net.below(2 * MEAN_GAP_US);
        }
        let api = &cat[pc.api];
        let hd = &api.hosts[pc.host];
        let ci = clients.choose(api, hd, &mut net);
        let client = &mut clients.list[ci];
        let server_ip = match (client.ip, hd.ipv6) {
            (IpAddr::V6(_), Some(v6)) => IpAddr::V6(v6),
            _ => IpAddr::V4(hd.ipv4),
        };
        let csa = SocketAddr::new(client.ip, client.next_port(&mut net));
        let ssa = SocketAddr::new(server_ip, hd.port);
        let mut conv = Conversation::new(csa, ssa, net.next_u32(), net.next_u32(), start)
            .with_step_us(30 + net.below(300));
        if csa.is_ipv6() {
            conv = conv.with_mss(1440);
        }
        conv.handshake();
        let mut crng = client_rng(opts.seed, ci, pc.api);
        let cc = ConnCtx {
            host_header: host_header(hd),
            ua: user_agent(api.style, ci),
            cred: credentials(api.style, &mut crng),
        };
        let label_host = normalize_host(&cc.host_header);
        let close_by_server = net.chance(15, 100);
        for (k, &oi) in pc.ops.iter().enumerate() {
            let last = k + 1 == pc.ops.len();
            let op = &api.operations[oi];
            let ts_us = conv.now();
            let (noun, item) = noun_of(op.template);
            let mut ctx = Ctx {
                api,
                op,
                noun,
                item,
                vals: Vec::new(),
                authed: cc.cred.is_some(),
                secs: ts_us / 1_000_000,
                path: String::new(),
            };
            let status = pick_status(&ctx, &mut content);
            let fresh = status == 404 && content.chance(1, 2);
            let (path, vals) = draw_path(
                api,
                op,
                &compiled[pc.api][oi],
                &pools[pc.api],
                fresh,
                &mut content,
            )?;
            ctx.vals = vals;
            ctx.path.clone_from(&path);
            let query = make_query(&ctx, &mut content);
            let body = request_body(&ctx, &mut content);
            let target = match &query {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            };
            let close = last && close_by_server;
            let req = request_bytes(&ctx, &target, &cc, body.as_ref(), close, &mut content);
            let rbody = response_body(&ctx, status, &mut content);
            let resp = response_bytes(&ctx, status, rbody, close, &mut content);
            conv.client(&req)
                .pause(2_000 + net.below(120_000))
                .server(&resp);
            if !last {
                conv.pause(1_000 + net.below(1_500_000));
            }
            calls.push(CallLabel {
                flow_index: flow,
                ts_us,
                client: csa,
                server: ssa,
                api: pc.api,
                op: oi,
                host: label_host.clone(),
                path,
                query,
                status,
            });
        }
        if close_by_server {
            conv.close(Side::Server);
        } else {
            conv.fin();
        }
        for (ts, f) in conv.frames(&style)? {
            packets.push((ts, f.to_bytes()?));
        }
    }
    // Stable: a connection's own packets keep their order.
    packets.sort_by_key(|p| p.0);
    Ok(Generated {
        packets,
        calls,
        connections: conns.len(),
    })
}

// ------------------------------------------------------------ labels

/// (api, host, operation) -> calls, in catalogue order.
type EndpointCounts = std::collections::BTreeMap<(usize, String, usize), usize>;

fn endpoint_counts(calls: &[CallLabel]) -> EndpointCounts {
    let mut m = EndpointCounts::new();
    for c in calls {
        *m.entry((c.api, c.host.clone(), c.op)).or_insert(0) += 1;
    }
    m
}

fn push_array(out: &mut String, key: &str, items: &[Value], more: bool) {
    out.push_str(&format!("  \"{key}\": ["));
    for (i, v) in items.iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(&v.to_string());
    }
    out.push_str(if items.is_empty() { "]" } else { "\n  ]" });
    out.push_str(if more { ",\n" } else { "\n" });
}

struct LabelSummary {
    text: String,
    endpoints: usize,
    shadows: usize,
    zombies: usize,
    spec_only: usize,
}

fn labels(g: &Generated, opts: &ApiTrafficOptions) -> LabelSummary {
    let cat = catalogue();
    let calls: Vec<Value> = g
        .calls
        .iter()
        .map(|c| {
            let op = &cat[c.api].operations[c.op];
            json!({
                "flow_index": c.flow_index,
                "ts_us": c.ts_us,
                "client": c.client.to_string(),
                "server": c.server.to_string(),
                "api": cat[c.api].name,
                "host": c.host,
                "method": op.method,
                "path": c.path,
                "query": c.query,
                "template": op.template,
                "documented": op.documented,
                "deprecated": op.deprecated,
                "status": c.status,
            })
        })
        .collect();
    let counts = endpoint_counts(&g.calls);
    let (mut shadows, mut zombies) = (0, 0);
    let endpoints: Vec<Value> = counts
        .iter()
        .map(|((a, host, i), n)| {
            let op = &cat[*a].operations[*i];
            let zombie = op.deprecated && op.documented;
            shadows += usize::from(!op.documented);
            zombies += usize::from(zombie);
            json!({
                "api": cat[*a].name,
                "host": host,
                "method": op.method,
                "template": op.template,
                "documented": op.documented,
                "deprecated": op.deprecated,
                "shadow": !op.documented,
                "zombie": zombie,
                "calls": n,
            })
        })
        .collect();
    let mut spec_only = Vec::new();
    for (a, api) in cat.iter().enumerate() {
        for (i, op) in api.operations.iter().enumerate() {
            if op.documented && !counts.keys().any(|k| k.0 == a && k.2 == i) {
                spec_only.push(json!({
                    "api": api.name,
                    "method": op.method,
                    "template": op.template,
                    "deprecated": op.deprecated,
                }));
            }
        }
    }
    let apis: Vec<Value> = cat
        .iter()
        .map(|a| {
            json!({
                "name": a.name,
                "title": a.title,
                "hosts": a.hosts.iter().map(|h| normalize_host(&host_header(h))).collect::<Vec<_>>(),
                "base_path": a.base_path,
                "spec": format!("{SPECS_DIR}/{}.json", a.name),
                "operations": a.operations.len(),
                "documented": a.operations.iter().filter(|o| o.documented).count(),
            })
        })
        .collect();
    let mut text = String::from("{\n");
    text.push_str(&format!(
        "  \"generator\": \"apitap synth api-traffic\",\n  \"seed\": {},\n  \"calls_total\": {},\n  \"connections\": {},\n",
        opts.seed,
        g.calls.len(),
        g.connections
    ));
    push_array(&mut text, "apis", &apis, true);
    push_array(&mut text, "calls", &calls, true);
    push_array(&mut text, "endpoints", &endpoints, true);
    push_array(&mut text, "spec_only", &spec_only, false);
    text.push_str("}\n");
    LabelSummary {
        text,
        endpoints: endpoints.len(),
        shadows,
        zombies,
        spec_only: spec_only.len(),
    }
}

// ------------------------------------------------------------ specs

fn server_url(api: &ApiDef, h: &HostDef) -> String {
    let scheme = if h.port == 443 { "https" } else { "http" };
    format!("{scheme}://{}{}", host_header(h), api.base_path)
}

fn schema(kind: ValueKind) -> Value {
    match kind {
        ValueKind::Int { .. } => json!({"type": "integer", "format": "int64"}),
        ValueKind::Uuid => json!({"type": "string", "format": "uuid"}),
        ValueKind::ObjectId => json!({"type": "string", "pattern": "^[0-9a-f]{24}$"}),
        ValueKind::Hex { len } => {
            json!({"type": "string", "pattern": format!("^[0-9a-f]{{{len}}}$")})
        }
        ValueKind::Date => json!({"type": "string", "format": "date"}),
        ValueKind::Month => json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}),
        ValueKind::Email => json!({"type": "string", "format": "email"}),
        ValueKind::Stripe { .. } => json!({"type": "string", "maxLength": 5000}),
        _ => json!({"type": "string"}),
    }
}

fn operation_id(op: &Operation) -> String {
    let mut id = op.method.to_ascii_lowercase();
    for seg in op.template.split('/') {
        let seg = seg.trim_start_matches('{').trim_end_matches('}');
        for part in seg.split(|c: char| !c.is_ascii_alphanumeric()) {
            let mut ch = part.chars();
            if let Some(f) = ch.next() {
                id.push(f.to_ascii_uppercase());
                id.push_str(ch.as_str());
            }
        }
    }
    id
}

/// The OpenAPI 3.0.3 document of `api`: documented operations only.
pub fn spec_document(api: &ApiDef) -> Result<Value, SynthError> {
    let mut paths = Map::new();
    for op in api.operations.iter().filter(|o| o.documented) {
        let segs = compile(api, op.template)?;
        let rel = op
            .template
            .strip_prefix(api.base_path)
            .filter(|r| r.starts_with('/'))
            .unwrap_or(op.template);
        let params: Vec<Value> = segs
            .iter()
            .filter_map(|s| match *s {
                Seg::Param(name, def) => Some(json!({
                    "name": name,
                    "in": "path",
                    "required": true,
                    "schema": schema(api.params[def].kind),
                })),
                Seg::Lit(_) => None,
            })
            .collect();
        let (noun, item) = noun_of(op.template);
        let ctx = Ctx {
            api,
            op,
            noun,
            item,
            vals: Vec::new(),
            authed: true,
            secs: EPOCH_SECS,
            path: String::new(),
        };
        let ok = success_status(&ctx);
        let mut responses = Map::new();
        let mut ok_resp = json!({"description": reason(ok)});
        if ok != 204 {
            ok_resp["content"] = json!({JSON_CT: {"schema": {"type": "object"}}});
        }
        responses.insert(ok.to_string(), ok_resp);
        if !params.is_empty() {
            responses.insert("404".into(), json!({"description": "Not Found"}));
        }
        if api.style != ApiStyle::Petstore {
            responses.insert("401".into(), json!({"description": "Unauthorized"}));
        }
        let tag = rel
            .split('/')
            .find(|s| {
                let version =
                    s.starts_with('v') && s[1..].starts_with(|c: char| c.is_ascii_digit());
                !s.is_empty() && !is_param(s) && !version && *s != "api" && *s != "apis"
            })
            .unwrap_or(api.name);
        let mut o = json!({
            "operationId": operation_id(op),
            "summary": format!("{} {}", op.method, rel),
            "tags": [tag],
            "parameters": params,
            "responses": responses,
        });
        if matches!(op.method, "POST" | "PUT" | "PATCH") {
            let ct = if api.style == ApiStyle::Stripe {
                FORM
            } else {
                JSON_CT
            };
            o["requestBody"] = json!({"content": {ct: {"schema": {"type": "object"}}}});
        }
        if op.deprecated {
            o["deprecated"] = json!(true);
        }
        let entry = paths.entry(rel.to_string()).or_insert_with(|| json!({}));
        entry[op.method.to_ascii_lowercase()] = o;
    }
    let servers: Vec<Value> = api
        .hosts
        .iter()
        .map(|h| json!({"url": server_url(api, h)}))
        .collect();
    let (schemes, security) = if api.style == ApiStyle::Petstore {
        (
            json!({"api_key": {"type": "apiKey", "name": "api_key", "in": "header"}}),
            json!([{"api_key": []}]),
        )
    } else {
        (
            json!({"bearerAuth": {"type": "http", "scheme": "bearer"}}),
            json!([{"bearerAuth": []}]),
        )
    };
    Ok(json!({
        "openapi": "3.0.3",
        "info": {"title": api.title, "version": api.version},
        "servers": servers,
        "security": security,
        "paths": paths,
        "components": {"securitySchemes": schemes},
    }))
}

// ------------------------------------------------------------ writer

/// Writes `api-traffic.pcap`, `api-traffic.labels.json` and
/// `specs/<api>.json` into `dir` (created if missing).
pub fn write_api_traffic(
    dir: &Path,
    opts: &ApiTrafficOptions,
) -> Result<ApiTrafficInfo, SynthError> {
    let g = generate(opts)?;
    let specs_dir = dir.join(SPECS_DIR);
    fs::create_dir_all(&specs_dir)?;
    let pcap = dir.join(PCAP_NAME);
    let file = BufWriter::with_capacity(1 << 20, File::create(&pcap)?);
    let mut w = PcapWriter::new(file, LINKTYPE_ETHERNET, DEFAULT_SNAPLEN)?;
    let mut bytes = PCAP_FILE_HEADER_LEN as u64;
    for (ts, data) in &g.packets {
        w.write_frame(*ts, data)?;
        bytes += (PCAP_RECORD_HEADER_LEN + data.len()) as u64;
    }
    w.into_inner()?.flush()?;
    let summary = labels(&g, opts);
    let labels_path = dir.join(LABELS_NAME);
    fs::write(&labels_path, summary.text.as_bytes())?;
    let mut specs = Vec::new();
    for api in catalogue() {
        let path = specs_dir.join(format!("{}.json", api.name));
        let mut text =
            serde_json::to_vec_pretty(&spec_document(api)?).map_err(std::io::Error::from)?;
        text.push(b'\n');
        fs::write(&path, text)?;
        specs.push(path);
    }
    Ok(ApiTrafficInfo {
        pcap,
        labels: labels_path,
        specs,
        apis: catalogue().len(),
        operations: catalogue().iter().map(|a| a.operations.len()).sum(),
        calls: g.calls.len(),
        connections: g.connections,
        packets: g.packets.len() as u64,
        bytes,
        endpoints: summary.endpoints,
        shadow_endpoints: summary.shadows,
        zombie_endpoints: summary.zombies,
        spec_only_operations: summary.spec_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::testdecode::{http_transactions, recount};
    use std::collections::{BTreeMap, BTreeSet};

    fn write(opts: &ApiTrafficOptions) -> (tempfile::TempDir, ApiTrafficInfo) {
        let dir = tempfile::tempdir().unwrap();
        let info = write_api_traffic(dir.path(), opts).unwrap();
        (dir, info)
    }

    fn read_json(path: &Path) -> Value {
        serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
    }

    fn api_named(name: &str) -> &'static ApiDef {
        catalogue().iter().find(|a| a.name == name).unwrap()
    }

    #[test]
    fn catalogue_is_well_formed() {
        let cat = catalogue();
        assert!((6..=8).contains(&cat.len()));
        let mut all = 0;
        let (mut shadows, mut zombies) = (0, 0);
        for api in cat {
            assert!(
                (10..=40).contains(&api.operations.len()),
                "{}: {} operations",
                api.name,
                api.operations.len()
            );
            for (i, a) in api.operations.iter().enumerate() {
                assert!(a.template.starts_with(api.base_path), "{}", a.template);
                compile(api, a.template).unwrap();
                for b in &api.operations[i + 1..] {
                    // Distinct templates never share a structure, so a
                    // path belongs to exactly one of them.
                    if a.template != b.template {
                        assert!(
                            !same_structure(a.template, b.template),
                            "{} ~ {}",
                            a.template,
                            b.template
                        );
                    } else {
                        assert_ne!(a.method, b.method, "{}", a.template);
                    }
                }
            }
            let documented_unused = api
                .operations
                .iter()
                .filter(|o| o.documented && !o.called)
                .count();
            assert!(
                documented_unused >= 1,
                "{} has no spec-only operation",
                api.name
            );
            assert!(api.operations.iter().all(|o| o.documented || o.called));
            all += api.operations.len();
            shadows += api.operations.iter().filter(|o| !o.documented).count();
            zombies += api
                .operations
                .iter()
                .filter(|o| o.deprecated && o.called)
                .count();
            for d in api.params {
                assert!(d.pool >= 1);
            }
        }
        // ~10% shadow and ~5% zombie operations.
        assert!(
            (all * 8..=all * 13).contains(&(shadows * 100)),
            "{shadows}/{all}"
        );
        assert!(
            (all * 4..=all * 7).contains(&(zombies * 100)),
            "{zombies}/{all}"
        );
        assert!(cat.iter().any(|a| a.hosts.len() >= 2));
        let tiny = cat
            .iter()
            .flat_map(|a| a.params.iter())
            .filter(|d| d.pool <= 6)
            .count();
        assert!(tiny >= 5, "{tiny} parameters with at most 6 values");
    }

    #[test]
    fn word_lists() {
        assert!(HANDLES.len() >= 300);
        let set: BTreeSet<_> = HANDLES.iter().collect();
        assert_eq!(set.len(), HANDLES.len());
        for w in HANDLES.iter().chain(REPOS).chain(ORGS).chain(CATEGORIES) {
            assert!(
                !w.is_empty() && !w.contains(['/', '?', '#', ' ', '%']),
                "{w:?}"
            );
        }
    }

    #[test]
    fn value_shapes() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..200 {
            let u = gen_value(ValueKind::Uuid, &mut rng);
            assert_eq!(u.len(), 36);
            assert_eq!(&u[14..15], "4");
            assert!("89ab".contains(&u[19..20]));
            let o = gen_value(ValueKind::ObjectId, &mut rng);
            assert!(o.len() == 24 && o.bytes().all(|b| b.is_ascii_hexdigit()));
            let s = gen_value(ValueKind::Base62 { len: 22 }, &mut rng);
            assert!(s.len() == 22 && s.bytes().all(|b| b.is_ascii_alphanumeric()));
            let c = gen_value(
                ValueKind::Stripe {
                    prefix: "cus_",
                    long: false,
                },
                &mut rng,
            );
            assert!(c.starts_with("cus_") && c.len() == 18);
            let ch = gen_value(
                ValueKind::Stripe {
                    prefix: "ch_",
                    long: true,
                },
                &mut rng,
            );
            assert!(ch.len() == 27 && ch.contains(STRIPE_ACCOUNT));
            let d = gen_value(ValueKind::Date, &mut rng);
            assert!(("2025-07-01".."2026-02-01").contains(&d.as_str()), "{d}");
            let e = gen_value(ValueKind::Email, &mut rng);
            assert!(e.contains('@') && e.contains('.'));
            let pod = gen_value(ValueKind::K8sPod, &mut rng);
            assert!(pod
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        }
        assert_eq!(http_date(EPOCH_SECS), "Thu, 01 Jan 2026 00:00:00 GMT");
        assert_eq!(
            http_date(EPOCH_SECS + 86_400 * 59 + 3_723),
            "Sun, 01 Mar 2026 01:02:03 GMT"
        );
        assert_eq!(iso_time(951_782_400), "2000-02-29T00:00:00Z");
        let cum = zipf_cum(4, false);
        assert_eq!(cum.len(), 4);
        assert!(cum.windows(2).all(|w| w[1] - w[0] < cum[0]));
    }

    #[test]
    fn template_matching() {
        let t = "/repos/{owner}/{repo}/issues/{issueNumber}";
        assert!(path_matches_template("/repos/torvalds/linux/issues/42", t));
        assert!(!path_matches_template("/repos/torvalds/linux/pulls/42", t));
        assert!(!path_matches_template("/repos/torvalds/linux/issues", t));
        assert!(!path_matches_template("/repos/torvalds//issues/42", t));
        assert!(same_structure("/v1/users/{userId}", "/v1/users/{id}"));
        assert!(!same_structure("/v1/users/{userId}", "/v1/users/me"));
        let stripe = api_named("stripe");
        assert!(!resolves_only_to(
            stripe,
            "/v1/customers/{customer}",
            "/v1/customers/search"
        ));
        assert!(resolves_only_to(
            stripe,
            "/v1/customers/search",
            "/v1/customers/search"
        ));
        assert_eq!(noun_of("/v1/me/top/{type}"), ("top", true));
        assert_eq!(
            noun_of("/api/chat.postMessage"),
            ("chat.postMessage", false)
        );
        assert!(generate(&ApiTrafficOptions { calls: 0, seed: 1 }).is_err());
        assert!(generate(&ApiTrafficOptions {
            calls: MAX_CALLS + 1,
            seed: 1
        })
        .is_err());
    }

    #[test]
    fn same_seed_same_bytes() {
        let opts = ApiTrafficOptions {
            calls: 400,
            seed: 11,
        };
        let (a, ia) = write(&opts);
        let (b, ib) = write(&opts);
        assert_eq!(ia.bytes, ib.bytes);
        let mut files = vec![PathBuf::from(PCAP_NAME), PathBuf::from(LABELS_NAME)];
        files.extend(
            catalogue()
                .iter()
                .map(|x| Path::new(SPECS_DIR).join(format!("{}.json", x.name))),
        );
        for f in &files {
            assert_eq!(
                fs::read(a.path().join(f)).unwrap(),
                fs::read(b.path().join(f)).unwrap(),
                "{f:?}"
            );
        }
        let (c, _) = write(&ApiTrafficOptions {
            calls: 400,
            seed: 12,
        });
        assert_ne!(
            fs::read(a.path().join(PCAP_NAME)).unwrap(),
            fs::read(c.path().join(PCAP_NAME)).unwrap()
        );
    }

    /// Checks labels against the catalogue and against the capture as
    /// re-read by the independent test decoder.
    fn check_capture(dir: &Path, info: &ApiTrafficInfo, calls: usize) -> Value {
        let labels = read_json(&dir.join(LABELS_NAME));
        let lc = labels["calls"].as_array().unwrap();
        assert_eq!(lc.len(), calls);
        assert_eq!(info.calls, calls);
        for c in lc {
            let (path, template) = (c["path"].as_str().unwrap(), c["template"].as_str().unwrap());
            let api = api_named(c["api"].as_str().unwrap());
            assert!(
                path_matches_template(path, template),
                "{path} !~ {template}"
            );
            assert!(
                resolves_only_to(api, template, path),
                "{path} matches a sibling of {template}"
            );
            let op = api
                .operations
                .iter()
                .find(|o| o.template == template && o.method == c["method"])
                .unwrap();
            assert!(op.called);
            assert_eq!(c["documented"], op.documented);
            assert_eq!(c["deprecated"], op.deprecated);
        }
        let (_, r) = recount(&dir.join(PCAP_NAME));
        assert!(!r.read_error);
        assert_eq!(r.packets, info.packets);
        assert_eq!(r.tcp_flows.len(), info.connections);
        let txs = http_transactions(&r);
        assert_eq!(txs.len(), lc.len(), "one request per label");
        for (t, c) in txs.iter().zip(lc) {
            assert!(t.complete && t.anomalies.is_empty(), "{t:?}");
            assert_eq!(t.method.as_deref(), c["method"].as_str());
            assert_eq!(t.path.as_deref(), c["path"].as_str());
            assert_eq!(t.query.as_deref(), c["query"].as_str());
            assert_eq!(t.host.as_deref(), c["host"].as_str());
            assert_eq!(t.status.map(u64::from), c["status"].as_u64());
            assert_eq!(t.client, c["client"].as_str().unwrap());
            assert_eq!(t.server, c["server"].as_str().unwrap());
        }
        // Endpoints are exactly the (host, method, template) of the calls.
        let mut from_calls: BTreeMap<(String, String, String), u64> = BTreeMap::new();
        for c in lc {
            let k = (
                c["host"].to_string(),
                c["method"].to_string(),
                c["template"].to_string(),
            );
            *from_calls.entry(k).or_default() += 1;
        }
        let eps = labels["endpoints"].as_array().unwrap();
        assert_eq!(eps.len(), from_calls.len());
        assert_eq!(eps.len(), info.endpoints);
        for e in eps {
            let k = (
                e["host"].to_string(),
                e["method"].to_string(),
                e["template"].to_string(),
            );
            assert_eq!(from_calls.get(&k).copied(), e["calls"].as_u64(), "{k:?}");
            assert_eq!(e["shadow"], !e["documented"].as_bool().unwrap());
        }
        labels
    }

    #[test]
    fn labels_match_templates_and_capture() {
        let (dir, info) = write(&ApiTrafficOptions {
            calls: 500,
            seed: 5,
        });
        check_capture(dir.path(), &info, 500);
    }

    #[test]
    fn specs_list_documented_operations_only() {
        let (dir, info) = write(&ApiTrafficOptions {
            calls: 300,
            seed: 9,
        });
        assert_eq!(info.specs.len(), catalogue().len());
        for api in catalogue() {
            let spec = read_json(
                &dir.path()
                    .join(SPECS_DIR)
                    .join(format!("{}.json", api.name)),
            );
            assert_eq!(spec["openapi"], "3.0.3");
            let servers: Vec<&str> = spec["servers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["url"].as_str().unwrap())
                .collect();
            for h in api.hosts {
                assert!(
                    servers
                        .iter()
                        .any(|u| u.contains(h.host) && u.ends_with(api.base_path)),
                    "{servers:?}"
                );
            }
            let mut got = BTreeSet::new();
            for (p, item) in spec["paths"].as_object().unwrap() {
                for (m, o) in item.as_object().unwrap() {
                    let full = format!("{}{p}", api.base_path);
                    let op = api
                        .operations
                        .iter()
                        .find(|x| x.template == full && x.method.eq_ignore_ascii_case(m))
                        .unwrap_or_else(|| panic!("{} {m} {full} not in the catalogue", api.name));
                    assert!(op.documented, "undocumented {full} in the spec");
                    assert_eq!(
                        o["deprecated"].as_bool().unwrap_or(false),
                        op.deprecated,
                        "{full}"
                    );
                    let names: Vec<&str> = o["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x["name"].as_str().unwrap())
                        .collect();
                    assert_eq!(names.len(), full.matches('{').count());
                    got.insert((m.to_ascii_uppercase(), full));
                }
            }
            let want: BTreeSet<_> = api
                .operations
                .iter()
                .filter(|o| o.documented)
                .map(|o| (o.method.to_string(), o.template.to_string()))
                .collect();
            assert_eq!(got, want, "{}", api.name);
        }
    }

    #[test]
    fn default_capture_has_the_hard_cases() {
        let (dir, info) = write(&ApiTrafficOptions::default());
        assert!(info.bytes < 5_000_000, "{} bytes", info.bytes);
        assert_eq!(
            fs::metadata(dir.path().join(PCAP_NAME)).unwrap().len(),
            info.bytes
        );
        let labels = check_capture(dir.path(), &info, DEFAULT_CALLS);
        let eps = labels["endpoints"].as_array().unwrap();
        let rare = eps
            .iter()
            .filter(|e| e["calls"].as_u64().unwrap() <= 2)
            .count();
        let top = eps
            .iter()
            .map(|e| e["calls"].as_u64().unwrap())
            .max()
            .unwrap();
        assert!(rare >= 10, "{rare} endpoints called once or twice");
        assert!(top >= 100, "most popular endpoint: {top} calls");
        assert!(
            info.shadow_endpoints >= 15 && info.zombie_endpoints >= 10,
            "{info:?}"
        );
        assert!(info.spec_only_operations >= 7);
        // Every operation meant to be called is called (on some host).
        let called: BTreeSet<(String, String)> = eps
            .iter()
            .map(|e| (e["method"].to_string(), e["template"].to_string()))
            .collect();
        let want = catalogue()
            .iter()
            .flat_map(|a| a.operations)
            .filter(|o| o.called)
            .count();
        assert_eq!(called.len(), want);
        // Shared paths on two hosts.
        let hosts: BTreeSet<&str> = eps
            .iter()
            .filter(|e| e["template"] == "/api/v2/products/{sku}")
            .map(|e| e["host"].as_str().unwrap())
            .collect();
        assert!(hosts.len() >= 2, "{hosts:?}");
        // Some parameters take only a handful of distinct values, others hundreds.
        let mut distinct: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for c in labels["calls"].as_array().unwrap() {
            let (p, t) = (c["path"].as_str().unwrap(), c["template"].as_str().unwrap());
            for (i, (ps, ts)) in p.split('/').zip(t.split('/')).enumerate() {
                if is_param(ts) {
                    distinct
                        .entry(format!("{t}#{i}"))
                        .or_default()
                        .insert(ps.to_string());
                }
            }
        }
        let few = distinct.iter().filter(|(_, v)| v.len() <= 6).count();
        let many = distinct.values().map(BTreeSet::len).max().unwrap();
        assert!(few >= 5, "{few} parameters with at most 6 values");
        assert!(many >= 50, "largest parameter cardinality {many}");
        // Clients from private and public ranges, some over IPv6.
        let clients: BTreeSet<&str> = labels["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["client"].as_str().unwrap())
            .collect();
        assert!(clients.iter().any(|c| c.starts_with("10.")));
        assert!(clients.iter().any(|c| c.starts_with("192.168.")));
        assert!(clients
            .iter()
            .any(|c| c.starts_with("198.51.100.") || c.starts_with("203.0.113.")));
        assert!(clients.iter().any(|c| c.starts_with("[2001:db8:")));
    }
}
