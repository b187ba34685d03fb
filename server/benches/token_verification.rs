//! Cost of accepting one bearer request on `/api/messages`, minus HTTP: verifying an RS256
//! access token (`typ: at+jwt`, the test key from `tests/fixtures/`) and deciding it against
//! the built-in policy. The `verify_rs256*` cases turn the verified-token cache off, so each
//! iteration checks the signature; `verify_cached*` measure a token the cache holds.
//!
//! Run with `cargo bench -p server --bench token_verification`. Results are in BENCHMARKS.md.

#[path = "../tests/support/tokens.rs"]
#[expect(
    dead_code,
    reason = "the benchmark uses only the access-token builders"
)]
mod tokens;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jsonwebtoken::jwk::JwkSet;
use server::api::jwks::JwksCache;
use server::api::AccessTokenVerifier;
use std::hint::black_box;
use stepup::Decision;

const ISSUER: &str = "http://127.0.0.1:4000";

fn verifier(cache_capacity: usize) -> AccessTokenVerifier {
    let set: JwkSet =
        serde_json::from_value(tokens::jwks(&[tokens::Key::Test])).expect("fixture JWKS parses");
    let keys = JwksCache::fixed(&set).expect("fixture JWKS loads");
    AccessTokenVerifier::new(ISSUER.to_owned(), tokens::API_AUDIENCE.to_owned(), keys)
        .with_token_cache_capacity(cache_capacity)
}

fn verify_and_decide(criterion: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime starts");
    let cached = verifier(1_000);
    let verifier = verifier(0);
    let policy = server::policy_file::load_policy(None).expect("the built-in policy loads");
    let token = tokens::access_token(ISSUER);

    let mut group = criterion.benchmark_group("access_token");
    group.throughput(Throughput::Elements(1));

    group.bench_function("verify_rs256", |bencher| {
        bencher
            .to_async(&runtime)
            .iter(|| async { verifier.verify(black_box(&token)).await.expect("valid") });
    });

    group.bench_function("verify_rs256_and_decide", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            let claims = verifier.verify(black_box(&token)).await.expect("valid");
            let requirement = policy.requirement_for("/api/messages", "GET", |_| None);
            let decision = policy.evaluate(&requirement, &claims.authentication(), tokens::now());
            assert!(matches!(decision, Decision::Allow));
            decision
        });
    });

    runtime
        .block_on(cached.verify(&token))
        .expect("the fixture token verifies");
    group.bench_function("verify_cached", |bencher| {
        bencher
            .to_async(&runtime)
            .iter(|| async { cached.verify(black_box(&token)).await.expect("valid") });
    });
    group.bench_function("verify_cached_and_decide", |bencher| {
        bencher.to_async(&runtime).iter(|| async {
            let claims = cached.verify(black_box(&token)).await.expect("valid");
            let requirement = policy.requirement_for("/api/messages", "GET", |_| None);
            policy.evaluate(&requirement, &claims.authentication(), tokens::now())
        });
    });

    let claims = runtime
        .block_on(verifier.verify(&token))
        .expect("the fixture token verifies");
    let authentication = claims.authentication();
    group.bench_function("decide_only", |bencher| {
        bencher.iter(|| {
            let requirement = policy.requirement_for(black_box("/api/messages"), "GET", |_| None);
            policy.evaluate(&requirement, black_box(&authentication), tokens::now())
        });
    });
    group.finish();
}

criterion_group!(benches, verify_and_decide);
criterion_main!(benches);
