#ifndef MODELROUTE_CURL_H
#define MODELROUTE_CURL_H

#include <stddef.h>
#include <stdint.h>

/// HTTP(S) over the system's libcurl, loaded with dlopen on first use, so that runs that
/// make no https call (dry runs, reports, calls to local servers) never load it, and the
/// program has no link-time dependency on libcurl or its headers.
///
///   library  = modelroute_curl_open(path, error, size)   // NULL on failure, with a reason
///   exchange = modelroute_curl_exchange(library)
///   outcome  = modelroute_curl_perform(exchange, url, headers, count, body, length, timeout, context, sink)  // blocks
///              modelroute_curl_cancel(exchange)           // from any thread, before or during perform
///              modelroute_curl_release(exchange)
///
/// `sink(context, kind, number, bytes, count)` receives, in order: kind 1, the final
/// response head (number = status, bytes = "name: value\n" lines); kind 2, each piece of
/// the body as it arrives; kind 3, a failure's description. It returns 0 to stop the
/// exchange (the outcome is then "completed"), else 1. Interim 1xx heads and trailer
/// fields after a chunked body are not passed on.
///
/// `perform` returns 0 completed, 1 timed out (nothing arrived for `timeout` seconds),
/// 2 cancelled, 3 failed, 4 failed in a way a retry cannot fix (a bad URL, TLS
/// certificate problems). Redirects are never followed, only http and https are spoken,
/// and the proxy variables libcurl knows (`https_proxy`, `no_proxy`, …) apply.

typedef int32_t (*modelroute_curl_sink)(void *context, int32_t kind, intptr_t number, const uint8_t *bytes, intptr_t count);

void *modelroute_curl_open(const char *path, char *error, size_t error_size);
void *modelroute_curl_exchange(void *library);
int32_t modelroute_curl_perform(
    void *exchange, const char *url, const char *const *headers, intptr_t header_count,
    const uint8_t *body, intptr_t body_length, double timeout, void *context, modelroute_curl_sink sink);
void modelroute_curl_cancel(void *exchange);
void modelroute_curl_release(void *exchange);

#endif
