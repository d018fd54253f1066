#ifndef CKAFKA_SHIM_H
#define CKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

/* What the producer's callbacks leave for Swift: the last error the client reported (served by
   rd_kafka_poll on the caller's thread), and whether it was fatal. */
typedef struct {
    int last_error;
    int fatal;
    char reason[256];
} clerk_kafka_state;

/* One message's outcome, written by the delivery report: 0 while in flight, 1 delivered, 2 failed (error). */
typedef struct {
    int state;
    int error;
} clerk_kafka_delivery;

static inline void clerk_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)rk;
    clerk_kafka_state *s = (clerk_kafka_state *)opaque;
    if (!s) return;
    s->last_error = err;
    if (err == RD_KAFKA_RESP_ERR__FATAL) s->fatal = 1;
    snprintf(s->reason, sizeof s->reason, "%s", reason ? reason : "");
}

static inline void clerk_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk; (void)opaque;
    clerk_kafka_delivery *d = (clerk_kafka_delivery *)m->_private;
    if (!d) return;
    d->error = (int)m->err;
    d->state = m->err ? 2 : 1;
}

/* librdkafka's own log lines would go to stderr unformatted; the error callback carries what matters. */
static inline void clerk_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk; (void)level; (void)fac; (void)buf;
}

static inline void clerk_kafka_conf_callbacks(rd_kafka_conf_t *conf, clerk_kafka_state *state) {
    rd_kafka_conf_set_opaque(conf, state);
    rd_kafka_conf_set_error_cb(conf, clerk_kafka_error_cb);
    rd_kafka_conf_set_dr_msg_cb(conf, clerk_kafka_dr_cb);
    rd_kafka_conf_set_log_cb(conf, clerk_kafka_log_cb);
}

/* rd_kafka_producev is variadic: one typed entry. The headers are taken over by librdkafka on success. */
static inline int clerk_kafka_produce(rd_kafka_t *rk, const char *topic, const void *key, size_t key_len,
                                      const void *value, size_t value_len, rd_kafka_headers_t *headers,
                                      clerk_kafka_delivery *delivery) {
    return (int)rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
                                  RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(delivery), RD_KAFKA_V_END);
}

/* For tests: a consumer message's header value, or NULL. */
static inline const char *clerk_kafka_header(const rd_kafka_message_t *m, const char *name, size_t *size) {
    rd_kafka_headers_t *h = NULL;
    const void *value = NULL;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR) return NULL;
    if (rd_kafka_header_get_last(h, name, &value, size) != RD_KAFKA_RESP_ERR_NO_ERROR) return NULL;
    return (const char *)value;
}
#endif
