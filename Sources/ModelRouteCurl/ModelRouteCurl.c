// HTTP(S) over the system's libcurl, bound at run time. See include/ModelRouteCurl.h.
//
// The few libcurl declarations used are restated here (libcurl's ABI for them has been
// stable since 7.28), so neither libcurl's headers nor its development package are
// needed to build. Values are from curl/curl.h and curl/multi.h.
#include "ModelRouteCurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef long long curl_off_t_;
struct curl_slist_;
typedef struct {
    int msg;
    void *easy_handle;
    union {
        void *whatever;
        int result;
    } data;
} curl_message_;

enum {
    OPT_WRITEDATA = 10001, OPT_URL = 10002, OPT_ERRORBUFFER = 10010, OPT_WRITEFUNCTION = 20011,
    OPT_POSTFIELDS = 10015, OPT_HTTPHEADER = 10023, OPT_HEADERDATA = 10029, OPT_POST = 47,
    OPT_FOLLOWLOCATION = 52, OPT_HEADERFUNCTION = 20079, OPT_NOSIGNAL = 99,
    OPT_POSTFIELDSIZE_LARGE = 30120, OPT_CONNECTTIMEOUT_MS = 156, OPT_PROTOCOLS = 181,
    OPT_REDIR_PROTOCOLS = 182, OPT_TCP_KEEPALIVE = 213, OPT_CAINFO = 10065,
};
enum { PROTO_HTTP = 1, PROTO_HTTPS = 2, GLOBAL_ALL = 3, MSG_DONE = 1, ERROR_SIZE = 256 };
enum {
    E_OK = 0, E_UNSUPPORTED_PROTOCOL = 1, E_URL_MALFORMAT = 3, E_WRITE_ERROR = 23,
    E_OPERATION_TIMEDOUT = 28, E_SSL_CONNECT_ERROR = 35, E_ABORTED_BY_CALLBACK = 42,
};

typedef struct {
    int (*global_init)(long);
    void *(*easy_init)(void);
    int (*easy_setopt)(void *, int, ...);
    void (*easy_cleanup)(void *);
    const char *(*easy_strerror)(int);
    struct curl_slist_ *(*slist_append)(struct curl_slist_ *, const char *);
    void (*slist_free_all)(struct curl_slist_ *);
    void *(*multi_init)(void);
    int (*multi_add_handle)(void *, void *);
    int (*multi_remove_handle)(void *, void *);
    int (*multi_perform)(void *, int *);
    int (*multi_wait)(void *, void *, unsigned, int, int *);
    curl_message_ *(*multi_info_read)(void *, int *);
    int (*multi_cleanup)(void *);
    // Newer entry points, used when present (7.66, 7.68).
    int (*multi_poll)(void *, void *, unsigned, int, int *);
    int (*multi_wakeup)(void *);
} curl_api;

void *modelroute_curl_open(const char *path, char *error, size_t error_size) {
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *reason = dlerror();
        snprintf(error, error_size, "%s", reason ? reason : "cannot be loaded");
        return NULL;
    }
    curl_api *api = calloc(1, sizeof *api);
    if (!api) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    const char *missing = NULL;
#define BIND(field, name) \
    do { \
        *(void **)(&api->field) = dlsym(handle, name); \
        if (!api->field && !missing) missing = name; \
    } while (0)
    BIND(global_init, "curl_global_init");
    BIND(easy_init, "curl_easy_init");
    BIND(easy_setopt, "curl_easy_setopt");
    BIND(easy_cleanup, "curl_easy_cleanup");
    BIND(easy_strerror, "curl_easy_strerror");
    BIND(slist_append, "curl_slist_append");
    BIND(slist_free_all, "curl_slist_free_all");
    BIND(multi_init, "curl_multi_init");
    BIND(multi_add_handle, "curl_multi_add_handle");
    BIND(multi_remove_handle, "curl_multi_remove_handle");
    BIND(multi_perform, "curl_multi_perform");
    BIND(multi_wait, "curl_multi_wait");
    BIND(multi_info_read, "curl_multi_info_read");
    BIND(multi_cleanup, "curl_multi_cleanup");
#undef BIND
    if (missing) {
        snprintf(error, error_size, "%s has no %s (libcurl 7.28 or newer is needed)", path, missing);
        free(api);
        return NULL;
    }
    *(void **)(&api->multi_poll) = dlsym(handle, "curl_multi_poll");
    *(void **)(&api->multi_wakeup) = dlsym(handle, "curl_multi_wakeup");
    if (api->global_init(GLOBAL_ALL) != E_OK) {
        snprintf(error, error_size, "libcurl could not initialise (curl_global_init failed)");
        free(api);
        return NULL;
    }
    return api;
}

typedef struct {
    const curl_api *api;
    atomic_int cancelled;
    pthread_mutex_t lock;
    void *multi; // while perform runs, for a wake-up on cancel
} exchange;

void *modelroute_curl_exchange(void *library) {
    exchange *ex = calloc(1, sizeof *ex);
    if (!ex) return NULL;
    ex->api = library;
    atomic_init(&ex->cancelled, 0);
    pthread_mutex_init(&ex->lock, NULL);
    return ex;
}

void modelroute_curl_cancel(void *opaque) {
    exchange *ex = opaque;
    atomic_store(&ex->cancelled, 1);
    pthread_mutex_lock(&ex->lock);
    if (ex->multi && ex->api->multi_wakeup) ex->api->multi_wakeup(ex->multi);
    pthread_mutex_unlock(&ex->lock);
}

void modelroute_curl_release(void *opaque) {
    exchange *ex = opaque;
    pthread_mutex_destroy(&ex->lock);
    free(ex);
}

enum { HEAD_LIMIT = 256 * 1024 };

typedef struct {
    void *context;
    modelroute_curl_sink sink;
    int status;       // of the head being read; 0 before a status line
    int head_sent;    // the final head went to the sink: later header lines are trailers
    int stopped;      // the sink asked to stop
    char failure[ERROR_SIZE]; // set by a callback that ended the exchange
    char *head;
    size_t head_length, head_capacity;
    struct timespec last; // last sign of life
} transfer;

static void touch(transfer *t) { clock_gettime(CLOCK_MONOTONIC, &t->last); }

static double seconds_since(const struct timespec *then) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - then->tv_sec) + (double)(now.tv_nsec - then->tv_nsec) / 1e9;
}

static int append_head(transfer *t, const char *line, size_t length) {
    if (t->head_length + length + 1 > HEAD_LIMIT) return 0;
    if (t->head_length + length + 1 > t->head_capacity) {
        size_t capacity = t->head_capacity ? t->head_capacity * 2 : 1024;
        while (capacity < t->head_length + length + 1) capacity *= 2;
        char *grown = realloc(t->head, capacity);
        if (!grown) return 0;
        t->head = grown;
        t->head_capacity = capacity;
    }
    memcpy(t->head + t->head_length, line, length);
    t->head_length += length;
    t->head[t->head_length++] = '\n';
    return 1;
}

/// "HTTP/x[.y] NNN[ reason]": the status, or -1. The reason phrase is optional.
static int parse_status(const char *line, size_t length) {
    size_t i = 5;
    while (i < length && line[i] != ' ') i++;
    while (i < length && line[i] == ' ') i++;
    if (i + 3 > length) return -1;
    int status = 0;
    for (size_t k = 0; k < 3; k++) {
        char c = line[i + k];
        if (c < '0' || c > '9') return -1;
        status = status * 10 + (c - '0');
    }
    if (i + 3 < length && line[i + 3] != ' ') return -1;
    return status >= 100 ? status : -1;
}

static size_t on_header(char *buffer, size_t size, size_t count, void *userdata) {
    transfer *t = userdata;
    size_t total = size * count;
    touch(t);
    if (t->head_sent) return total; // a trailer field after a chunked body
    size_t length = total;
    while (length > 0 && (buffer[length - 1] == '\n' || buffer[length - 1] == '\r')) length--;
    if (length >= 5 && memcmp(buffer, "HTTP/", 5) == 0) {
        t->status = parse_status(buffer, length);
        t->head_length = 0;
        if (t->status < 0) {
            snprintf(t->failure, sizeof t->failure, "the server sent a malformed status line");
            return 0;
        }
        return total;
    }
    if (length == 0) {
        if (t->status >= 100 && t->status < 200) { // an interim response: the real one follows
            t->status = 0;
            return total;
        }
        if (t->status < 200) return total;
        t->head_sent = 1;
        if (t->sink(t->context, 1, t->status, (const uint8_t *)t->head, (intptr_t)t->head_length) == 0) {
            t->stopped = 1;
            return 0;
        }
        return total;
    }
    if (!append_head(t, buffer, length)) {
        snprintf(t->failure, sizeof t->failure, "the response head is over %d KiB", HEAD_LIMIT / 1024);
        return 0;
    }
    return total;
}

static size_t on_body(char *buffer, size_t size, size_t count, void *userdata) {
    transfer *t = userdata;
    size_t total = size * count;
    touch(t);
    if (!t->head_sent) {
        snprintf(t->failure, sizeof t->failure, "the server sent a body without a response head");
        return 0;
    }
    if (total == 0) return 0;
    if (t->sink(t->context, 2, 0, (const uint8_t *)buffer, (intptr_t)total) == 0) {
        t->stopped = 1;
        return 0;
    }
    return total;
}

/// libcurl results that the same request would meet again.
static int is_lasting(int code) {
    switch (code) {
    case E_UNSUPPORTED_PROTOCOL: case E_URL_MALFORMAT: case E_SSL_CONNECT_ERROR:
    case 53: case 54: case 58: case 59: case 60: case 66: case 77: case 80: case 82: case 83:
    case 90: case 91: case 98:
        return 1;
    default:
        return 0;
    }
}

static int32_t fail(transfer *t, const char *text, int32_t code) {
    t->sink(t->context, 3, 0, (const uint8_t *)text, (intptr_t)strlen(text));
    return code;
}

int32_t modelroute_curl_perform(
    void *opaque, const char *url, const char *const *headers, intptr_t header_count,
    const uint8_t *body, intptr_t body_length, double timeout, void *context, modelroute_curl_sink sink) {
    exchange *ex = opaque;
    const curl_api *api = ex->api;
    transfer t;
    memset(&t, 0, sizeof t);
    t.context = context;
    t.sink = sink;
    if (atomic_load(&ex->cancelled)) return 2;
    if (!(timeout > 0.001)) timeout = 0.001;
    if (timeout > 86400 * 7) timeout = 86400 * 7;

    void *easy = api->easy_init();
    void *multi = easy ? api->multi_init() : NULL;
    if (!easy || !multi) {
        if (easy) api->easy_cleanup(easy);
        return fail(&t, "libcurl could not start a transfer", 3);
    }
    struct curl_slist_ *list = NULL;
    int ok = 1;
    for (intptr_t i = 0; i < header_count && ok; i++) {
        struct curl_slist_ *grown = headers[i] ? api->slist_append(list, headers[i]) : NULL;
        if (grown) list = grown; else ok = 0;
    }
    // No "Expect: 100-continue" round trip before a large body.
    struct curl_slist_ *grown = ok ? api->slist_append(list, "Expect:") : NULL;
    if (grown) list = grown; else ok = 0;
    char error[ERROR_SIZE];
    error[0] = 0;
    static const uint8_t empty = 0;
    long connect_ms = (long)(timeout * 1000);
    if (ok) {
        ok = api->easy_setopt(easy, OPT_URL, url) == E_OK
            && api->easy_setopt(easy, OPT_PROTOCOLS, (long)(PROTO_HTTP | PROTO_HTTPS)) == E_OK
            && api->easy_setopt(easy, OPT_REDIR_PROTOCOLS, (long)(PROTO_HTTP | PROTO_HTTPS)) == E_OK
            && api->easy_setopt(easy, OPT_FOLLOWLOCATION, 0L) == E_OK
            && api->easy_setopt(easy, OPT_NOSIGNAL, 1L) == E_OK
            && api->easy_setopt(easy, OPT_TCP_KEEPALIVE, 1L) == E_OK
            && api->easy_setopt(easy, OPT_CONNECTTIMEOUT_MS, connect_ms > 0 ? connect_ms : 1L) == E_OK
            && api->easy_setopt(easy, OPT_ERRORBUFFER, error) == E_OK
            && api->easy_setopt(easy, OPT_POST, 1L) == E_OK
            && api->easy_setopt(easy, OPT_POSTFIELDSIZE_LARGE, (curl_off_t_)body_length) == E_OK
            && api->easy_setopt(easy, OPT_POSTFIELDS, body_length > 0 && body ? (const void *)body : (const void *)&empty) == E_OK
            && api->easy_setopt(easy, OPT_HTTPHEADER, list) == E_OK
            && api->easy_setopt(easy, OPT_HEADERFUNCTION, on_header) == E_OK
            && api->easy_setopt(easy, OPT_HEADERDATA, &t) == E_OK
            && api->easy_setopt(easy, OPT_WRITEFUNCTION, on_body) == E_OK
            && api->easy_setopt(easy, OPT_WRITEDATA, &t) == E_OK
            && api->multi_add_handle(multi, easy) == 0;
    }
    // The certificate authorities to trust, as the curl tool takes them.
    const char *authorities = getenv("CURL_CA_BUNDLE");
    if (!authorities || !*authorities) authorities = getenv("SSL_CERT_FILE");
    if (ok && authorities && *authorities) ok = api->easy_setopt(easy, OPT_CAINFO, authorities) == E_OK;
    int32_t outcome = -1;
    int result = E_OK;
    if (!ok) {
        outcome = fail(&t, "libcurl refused the request's settings", 4);
    } else {
        pthread_mutex_lock(&ex->lock);
        ex->multi = multi;
        pthread_mutex_unlock(&ex->lock);
        touch(&t);
        int running = 1;
        while (outcome < 0) {
            if (api->multi_perform(multi, &running) != 0) {
                outcome = fail(&t, "libcurl failed while transferring", 3);
                break;
            }
            if (t.stopped) { outcome = 0; break; }
            if (!running) break;
            if (atomic_load(&ex->cancelled)) { outcome = 2; break; }
            double idle = seconds_since(&t.last);
            if (idle >= timeout) { outcome = 1; break; }
            double left = (timeout - idle) * 1000;
            int wait = left < 100 ? (int)left + 1 : 100;
            if (api->multi_poll) api->multi_poll(multi, NULL, 0, wait, NULL);
            else api->multi_wait(multi, NULL, 0, wait, NULL);
        }
        if (outcome < 0) {
            int pending = 0;
            curl_message_ *message;
            while ((message = api->multi_info_read(multi, &pending)) != NULL) {
                if (message->msg == MSG_DONE && message->easy_handle == easy) result = message->data.result;
            }
            if (t.stopped) {
                outcome = 0;
            } else if (t.failure[0]) {
                outcome = fail(&t, t.failure, 3);
            } else if (result == E_OK) {
                outcome = t.head_sent ? 0 : fail(&t, "the server closed the connection without a response", 3);
            } else if (result == E_OPERATION_TIMEDOUT) {
                outcome = 1;
            } else if (atomic_load(&ex->cancelled) && (result == E_ABORTED_BY_CALLBACK || result == E_WRITE_ERROR)) {
                outcome = 2;
            } else {
                const char *text = error[0] ? error : api->easy_strerror(result);
                outcome = fail(&t, text ? text : "the transfer failed", is_lasting(result) ? 4 : 3);
            }
        }
        pthread_mutex_lock(&ex->lock);
        ex->multi = NULL;
        pthread_mutex_unlock(&ex->lock);
        api->multi_remove_handle(multi, easy);
    }
    api->easy_cleanup(easy);
    api->multi_cleanup(multi);
    if (list) api->slist_free_all(list);
    free(t.head);
    return outcome;
}
