//! Published on-demand prices, us-east-1, in one place (checked against the AWS pricing pages
//! for DynamoDB on-demand — after the November 2024 price cut —, SQS and Lambda; update here).

/// $ per million write request units (DynamoDB on-demand, Standard table class).
pub const DYNAMODB_WRITE_PER_MILLION: f64 = 0.625;
/// $ per million read request units (DynamoDB on-demand, Standard table class).
pub const DYNAMODB_READ_PER_MILLION: f64 = 0.125;
/// $ per million SQS standard-queue requests (each 64 KB chunk of a payload is one request),
/// past the free tier.
pub const SQS_STANDARD_PER_MILLION: f64 = 0.40;
/// $ per million Lambda invocations (duration is priced separately and not modelled here).
pub const LAMBDA_REQUESTS_PER_MILLION: f64 = 0.20;
/// SQS bills a request per 64 KB chunk of its payload.
pub const SQS_CHUNK_BYTES: u64 = 64 * 1024;

/// Dollars for a count at a per-million price.
pub fn dollars(count: f64, per_million: f64) -> f64 {
    count * per_million / 1e6
}
