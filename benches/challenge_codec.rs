//! Cost of the `WWW-Authenticate` codec: parsing a step-up challenge with
//! `BearerChallenge::from_header_value` and writing one with `to_header_value`.
//!
//! Run with `cargo bench -p stepup --bench challenge_codec`. Results are in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use stepup::BearerChallenge;

/// A challenge as `/api/messages` sends it to a token with a one-factor `acr`.
const STEP_UP_HEADER: &str = "Bearer error=\"insufficient_user_authentication\", \
    error_description=\"A different authentication level is required\", \
    acr_values=\"urn:okta:loa:2fa:any\", max_age=\"300\"";

/// The same challenge after another scheme's challenge, so the parser walks past it.
const TWO_SCHEMES_HEADER: &str = "Basic realm=\"legacy\", charset=\"UTF-8\", \
    Bearer error=\"insufficient_user_authentication\", \
    error_description=\"A different authentication level is required\", \
    acr_values=\"urn:okta:loa:2fa:any urn:okta:loa:2fa:any:ifpossible\", max_age=0";

fn parse_and_format(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("challenge");
    group.throughput(Throughput::Elements(1));

    group.bench_function("parse_step_up", |bencher| {
        bencher.iter(|| BearerChallenge::from_header_value(black_box(STEP_UP_HEADER)));
    });
    group.bench_function("parse_after_basic", |bencher| {
        bencher.iter(|| BearerChallenge::from_header_value(black_box(TWO_SCHEMES_HEADER)));
    });

    let challenge = BearerChallenge::insufficient_user_authentication(
        "A different authentication level is required",
        vec!["urn:okta:loa:2fa:any".to_owned()],
        Some(300),
    );
    group.bench_function("format_step_up", |bencher| {
        bencher.iter(|| black_box(&challenge).to_header_value());
    });
    group.finish();
}

criterion_group!(benches, parse_and_format);
criterion_main!(benches);
