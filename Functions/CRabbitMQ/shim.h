#ifndef CRABBITMQ_SHIM_H
#define CRABBITMQ_SHIM_H
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <amqp_framing.h>
#include <sys/time.h>

/* amqp_login is variadic (SASL arguments): one typed entry for PLAIN. */
static inline amqp_rpc_reply_t clerk_amqp_login_plain(amqp_connection_state_t c, const char *vhost, const char *user,
                                                      const char *password, int heartbeat) {
    return amqp_login(c, vhost, 0, 131072, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

static inline int clerk_amqp_reply_ok(amqp_rpc_reply_t r) { return r.reply_type == AMQP_RESPONSE_NORMAL; }

/* Waits for the next frame on the channel, up to timeout_ms; returns amqp status (AMQP_STATUS_TIMEOUT, ...). */
static inline int clerk_amqp_wait_frame(amqp_connection_state_t c, amqp_frame_t *frame, int timeout_ms) {
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return amqp_simple_wait_frame_noblock(c, frame, &tv);
}

static inline amqp_basic_ack_t *clerk_amqp_ack(amqp_frame_t *f) { return (amqp_basic_ack_t *)f->payload.method.decoded; }
static inline amqp_basic_nack_t *clerk_amqp_nack(amqp_frame_t *f) { return (amqp_basic_nack_t *)f->payload.method.decoded; }
#endif
