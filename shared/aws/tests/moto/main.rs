//! Tests of the AWS adapters against moto over real HTTP (no Docker). `tools/test.sh` starts
//! `moto_server` and exports `Q2C_TEST_AWS_ENDPOINT`; without it every test here is skipped
//! with a printed reason (and fails under `Q2C_REQUIRE_AWS=1`, which tools/test.sh sets). Each test creates its own uniquely named table or
//! queues, so tests run in parallel.

mod common;
mod consumer;
mod contract;
mod dlq;
mod dynamo_expiry;
mod dynamo_list;
mod dynamo_misc;
mod dynamo_orders;
mod dynamo_products;
mod dynamo_quotes;
mod fanout;
mod hub_delivery;
mod open_quote_shards;
mod outbox_index;
mod patch_retry;
mod publisher;
mod queues;
mod requests;
