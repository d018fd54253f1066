/* The floor for the runtime benchmark: the least a Lambda custom runtime on libcurl's easy interface can do.
 *
 * One reused handle (keep-alive), CURLOPT_NOSIGNAL, TCP_NODELAY, no Expect header, the event echoed back.
 * No JSON, no logging, no headers kept but the request id. `make bench-runtime` builds it with gcc -O2 and
 * runs it against the same neutral mock as `bootstrap`, in the same run, so the two figures compare.
 *
 * Built with -DFLOOR_LIBPQ (and -lpq) it is the floor of the `health` function's cold start in
 * `make bench-coldstart`: one libpq connection to DATABASE_URL at init, then `SELECT 1` on it before each
 * event is echoed, as `health` pings PostgreSQL. A connection or query that fails ends the process, so no
 * response is posted and the benchmark counts the run as failed. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef FLOOR_LIBPQ
#include <libpq-fe.h>
#endif

struct buf { char *data; size_t len, cap; };
static char request_id[256];

static size_t on_body(char *p, size_t s, size_t n, void *u) {
    struct buf *b = u;
    size_t add = s * n;
    if (b->len + add > b->cap) {
        b->cap = (b->len + add) * 2;
        b->data = realloc(b->data, b->cap);
        if (!b->data) return 0;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    return add;
}

static size_t on_header(char *p, size_t s, size_t n, void *u) {
    (void)u;
    size_t len = s * n;
    static const char name[] = "lambda-runtime-aws-request-id:";
    if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        size_t i = sizeof name - 1, j = len;
        while (i < j && p[i] == ' ') i++;
        while (j > i && (p[j - 1] == '\r' || p[j - 1] == '\n' || p[j - 1] == ' ')) j--;
        if (j - i < sizeof request_id) { memcpy(request_id, p + i, j - i); request_id[j - i] = 0; }
    }
    return len;
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) return 1;
#ifdef FLOOR_LIBPQ
    const char *database = getenv("DATABASE_URL");
    PGconn *pg = database ? PQconnectdb(database) : NULL;
    if (!pg || PQstatus(pg) != CONNECTION_OK) return 1;
#endif
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    struct buf body = {0};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    char next_url[512], post_url[1024];
    snprintf(next_url, sizeof next_url, "http://%s/2018-06-01/runtime/invocation/next", api);
    for (;;) {
        body.len = 0;
        request_id[0] = 0;
        curl_easy_setopt(h, CURLOPT_URL, next_url);
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        if (curl_easy_perform(h) != CURLE_OK || !request_id[0]) return 1;
#ifdef FLOOR_LIBPQ
        PGresult *pinged = PQexec(pg, "SELECT 1");
        int answered = PQresultStatus(pinged) == PGRES_TUPLES_OK;
        PQclear(pinged);
        if (!answered) return 1;
#endif
        char *event = malloc(body.len ? body.len : 1);
        size_t event_len = body.len;
        memcpy(event, body.data, body.len);
        body.len = 0;
        snprintf(post_url, sizeof post_url, "http://%s/2018-06-01/runtime/invocation/%s/response", api, request_id);
        curl_easy_setopt(h, CURLOPT_URL, post_url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, event);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)event_len);
        CURLcode rc = curl_easy_perform(h);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        free(event);
        if (rc != CURLE_OK) return 1;
    }
}
