//! What a site can make us reach. Redirects and host names are checked before
//! anything connects, so a refusal says nothing about what listens there, and
//! a refused redirect is a failed read with nothing stored.
//!
//! - Redirects ([`check_redirect`]): at most [`MAX_REDIRECTS`], to the
//!   configured host or its `www.`/bare twin only, on its port (or the target
//!   scheme's default), never from HTTPS to HTTP, never to a loopback, private
//!   or link-local address literal.
//! - Names (`GuardedResolver`): every host name is resolved through a guard
//!   that drops loopback, private and link-local answers ([`is_public`]), so
//!   neither a twin that resolves inward nor the configured name itself (DNS
//!   rebinding, on the first request as on later ones) reaches the inside
//!   network. `localhost` and `*.localhost` are loopback without asking DNS
//!   (RFC 6761).
//! - Both rules are lifted when the configured URL is itself local ([`is_local`]:
//!   its host is such an address, or `localhost`): the operator chose that
//!   network. A configured *name* that resolves only to private addresses is
//!   refused; configure such a site by its address.
//! - Not covered: source reads ignore `HTTP(S)_PROXY` (a proxy would resolve
//!   names itself, out of the guard's reach); a public address that belongs to
//!   the operator's own infrastructure looks like any other.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::config::redact::Redacted;

/// Redirects followed before giving up; a loop ends here with a clear error.
pub const MAX_REDIRECTS: usize = 5;

/// reqwest's redirect policy for a source configured at `configured`.
pub(super) fn redirect_policy(configured: &Url) -> reqwest::redirect::Policy {
    let configured = configured.clone();
    reqwest::redirect::Policy::custom(move |attempt| {
        match check_redirect(&configured, attempt.previous(), attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(refusal) => {
                let to = crate::text::markup::shorten(&Redacted(attempt.url()).to_string(), 200);
                attempt.error(RefusedRedirect { to, refusal })
            }
        }
    })
}

/// Why a redirect was not followed (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectRefusal {
    #[error("more than {MAX_REDIRECTS} redirects (a redirect loop?)")]
    TooMany,
    #[error("not an http(s) address")]
    NotHttp,
    #[error("from HTTPS to plain HTTP")]
    Downgrade,
    #[error(
        "to a loopback, private or link-local address, which only a source configured at such an address may reach"
    )]
    LocalAddress,
    #[error("to another site ({to}); only {configured} and its www. twin are followed")]
    OtherSite { to: String, configured: String },
    #[error("to another port ({port})")]
    OtherPort { port: u16 },
}

/// Whether the next hop of a redirect chain may be followed: `configured` is
/// the source's URL, `previous` the URLs requested so far (the first is the
/// configured one), `next` the target. Pure; decided before connecting.
pub fn check_redirect(
    configured: &Url,
    previous: &[Url],
    next: &Url,
) -> Result<(), RedirectRefusal> {
    if previous.len() > MAX_REDIRECTS {
        return Err(RedirectRefusal::TooMany);
    }
    if !matches!(next.scheme(), "http" | "https") {
        return Err(RedirectRefusal::NotHttp);
    }
    let from = previous.last().unwrap_or(configured);
    if from.scheme() == "https" && next.scheme() == "http" {
        return Err(RedirectRefusal::Downgrade);
    }
    if is_local(next) && !is_local(configured) {
        return Err(RedirectRefusal::LocalAddress);
    }
    let host = |u: &Url| {
        u.host_str()
            .unwrap_or("")
            .trim_end_matches('.')
            .to_ascii_lowercase()
    };
    let (ours, theirs) = (host(configured), host(next));
    let twin = match ours.strip_prefix("www.") {
        Some(bare) => bare.to_string(),
        None => format!("www.{ours}"),
    };
    if theirs != ours && theirs != twin {
        return Err(RedirectRefusal::OtherSite {
            to: theirs,
            configured: ours,
        });
    }
    let port = next.port_or_known_default().unwrap_or(0);
    if Some(port) != configured.port_or_known_default() && next.port().is_some() {
        return Err(RedirectRefusal::OtherPort { port });
    }
    Ok(())
}

/// True when `url`'s host is a loopback, private or link-local address, or
/// `localhost`: only a source configured at such a host may reach one.
pub fn is_local(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => is_localhost(name),
        None => false,
    }
}

/// `localhost` and names under it, which RFC 6761 reserves for loopback.
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Whether `ip` is an ordinary address on the internet: not unspecified,
/// loopback, private, shared (CGNAT), link-local (cloud metadata lives at
/// 169.254.169.254), unique-local, documentation, benchmarking, multicast or
/// reserved — also when an IPv6 address embeds such an IPv4 one.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public_v4(embedded(s[6], s[7])); // NAT64
            }
            if s[0] == 0x2002 {
                return is_public_v4(embedded(s[1], s[2])); // 6to4
            }
            !(s[..6] == [0; 6] // ::, ::1 and the old IPv4-compatible ::a.b.c.d
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || ip.is_documentation()
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || ip.is_multicast()
        || a >= 240) // reserved and broadcast
}

/// The error a refused redirect hands reqwest; fetch finds it in the error's causes.
#[derive(Debug, thiserror::Error)]
#[error("redirect to {to} refused: {refusal}")]
pub(super) struct RefusedRedirect {
    pub(super) to: String,
    pub(super) refusal: RedirectRefusal,
}

/// The error the resolver guard hands reqwest; fetch finds it in the error's causes.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to loopback, private or link-local addresses")]
pub(super) struct RefusedAddress {
    pub(super) host: String,
}

/// Resolves names through `names`, then keeps only public addresses unless
/// the configured URL is local; a name left with none is refused.
pub(super) struct GuardedResolver {
    allow_local: bool,
    names: Arc<dyn Resolve>,
}

impl GuardedResolver {
    /// The guard for a source configured at `configured`, asking `names`.
    pub(super) fn new(configured: &Url, names: Arc<dyn Resolve>) -> GuardedResolver {
        GuardedResolver {
            allow_local: is_local(configured),
            names,
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let allow_local = self.allow_local;
        let answer: Resolving = if is_localhost(&host) {
            let loopback = [
                SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
            ];
            Box::pin(std::future::ready(Ok(
                Box::new(loopback.into_iter()) as Addrs
            )))
        } else {
            self.names.resolve(name)
        };
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = answer
                .await?
                .filter(|a| allow_local || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(RefusedAddress { host }) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The operating system's resolver (getaddrinfo on a blocking thread).
pub(super) struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// The verdict on one redirect from `configured` (the first request) to `next`.
    fn hop(configured: &str, next: &str) -> Result<(), RedirectRefusal> {
        let configured = u(configured);
        check_redirect(&configured, std::slice::from_ref(&configured), &u(next))
    }

    #[test]
    fn redirects_stay_on_the_configured_site_and_its_www_twin() {
        let site = "https://www.rusemb.org.uk/";
        assert_eq!(hop(site, "https://www.rusemb.org.uk/fnapr/1"), Ok(()));
        assert_eq!(hop(site, "https://rusemb.org.uk/"), Ok(()));
        assert_eq!(
            hop("https://rusemb.org.uk/", "https://WWW.rusemb.org.uk/"),
            Ok(())
        );
        assert_eq!(
            hop("http://rusemb.org.uk/", "https://www.rusemb.org.uk/"),
            Ok(()),
            "upgrade"
        );
        assert_eq!(
            hop(site, "https://www.rusemb.org.uk./x"),
            Ok(()),
            "trailing dot"
        );
        for other in [
            "https://m.rusemb.org.uk/",
            "https://www.www.rusemb.org.uk/",
            "https://evil.example/",
            "https://rusemb.org.uk.evil.example/",
        ] {
            assert!(
                matches!(hop(site, other), Err(RedirectRefusal::OtherSite { .. })),
                "{other}"
            );
        }
        assert_eq!(
            hop(site, "https://www.rusemb.org.uk:8443/"),
            Err(RedirectRefusal::OtherPort { port: 8443 })
        );
        assert_eq!(
            hop("http://127.0.0.1:8080/", "http://127.0.0.1:8080/feed"),
            Ok(())
        );
        assert_eq!(
            hop("http://127.0.0.1:8080/", "http://127.0.0.1:22/"),
            Err(RedirectRefusal::OtherPort { port: 22 })
        );
        assert!(matches!(
            hop("http://127.0.0.1:8080/", "http://localhost:8080/"),
            Err(RedirectRefusal::OtherSite { .. })
        ));
        assert_eq!(
            hop("http://localhost:8080/", "http://www.localhost:8080/"),
            Ok(())
        );
    }

    #[test]
    fn never_from_https_to_http_nor_to_other_schemes() {
        assert_eq!(
            hop("https://www.rusemb.org.uk/", "http://www.rusemb.org.uk/"),
            Err(RedirectRefusal::Downgrade)
        );
        // A downgrade later in the chain counts too.
        let start = u("http://example.org/");
        let chain = [start.clone(), u("https://example.org/a")];
        assert_eq!(
            check_redirect(&start, &chain, &u("http://example.org/b")),
            Err(RedirectRefusal::Downgrade)
        );
        assert_eq!(
            hop("https://example.org/", "ftp://example.org/"),
            Err(RedirectRefusal::NotHttp)
        );
    }

    #[test]
    fn a_public_source_is_never_sent_to_a_local_address() {
        for target in [
            "http://localhost:8080/internal.xml",
            "http://app.localhost/",
            "http://127.0.0.1/",
            "http://0x7f.1/",
            "http://[::1]:9/",
            "http://10.0.0.5/",
            "http://192.168.1.1/",
            "http://172.16.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "https://[64:ff9b::a00:5]/",
        ] {
            assert_eq!(
                hop("http://example.org/", target),
                Err(RedirectRefusal::LocalAddress),
                "{target}"
            );
        }
    }

    #[test]
    fn at_most_five_redirects() {
        let start = u("https://example.org/");
        let mut chain = vec![start.clone()];
        for n in 1..=MAX_REDIRECTS {
            let next = u(&format!("https://example.org/{n}"));
            assert_eq!(
                check_redirect(&start, &chain, &next),
                Ok(()),
                "redirect {n}"
            );
            chain.push(next);
        }
        assert_eq!(
            check_redirect(&start, &chain, &u("https://example.org/6")),
            Err(RedirectRefusal::TooMany)
        );
    }

    #[test]
    fn public_and_local_addresses() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2a00:1450:4009::200e",
            "100.128.0.1",
            "172.32.0.1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.2",
            "10.1.2.3",
            "172.31.255.255",
            "192.168.0.1",
            "169.254.169.254",
            "100.100.100.100",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.2.1",
            "::",
            "::1",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "2002:a00:1::",
            "64:ff9b::7f00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    /// Answers every name with the addresses it was given.
    struct Table(Vec<IpAddr>);

    impl Resolve for Table {
        fn resolve(&self, _: Name) -> Resolving {
            let addrs: Vec<SocketAddr> = self.0.iter().map(|ip| SocketAddr::new(*ip, 0)).collect();
            Box::pin(std::future::ready(Ok(Box::new(addrs.into_iter()) as Addrs)))
        }
    }

    async fn guarded(
        allow_local: bool,
        answer: &[&str],
        host: &str,
    ) -> Result<Vec<IpAddr>, String> {
        let names = Arc::new(Table(answer.iter().map(|a| a.parse().unwrap()).collect()));
        let guard = GuardedResolver { allow_local, names };
        let name: Name = host.parse().unwrap();
        guard
            .resolve(name)
            .await
            .map(|addrs| addrs.map(|a| a.ip()).collect())
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn the_resolver_drops_local_answers_for_a_public_source() {
        let err = guarded(false, &["10.0.0.5"], "www.example.org")
            .await
            .unwrap_err();
        assert!(
            err.contains("www.example.org resolves only to loopback"),
            "{err}"
        );
        assert!(
            guarded(false, &["169.254.169.254"], "example.org")
                .await
                .is_err()
        );
        assert!(
            guarded(false, &["8.8.8.8"], "localhost").await.is_err(),
            "localhost skips DNS"
        );
        assert_eq!(
            guarded(false, &["127.0.0.1", "93.184.216.34"], "example.org").await,
            Ok(vec!["93.184.216.34".parse().unwrap()]),
            "a mixed answer keeps only the public address"
        );
        // A local source may reach local addresses, and *.localhost is loopback.
        assert_eq!(
            guarded(true, &["10.0.0.5"], "intranet").await,
            Ok(vec!["10.0.0.5".parse().unwrap()])
        );
        let loopback = guarded(true, &[], "www.localhost").await.unwrap();
        assert!(loopback.iter().all(|ip| ip.is_loopback()) && !loopback.is_empty());
    }
}
