#ifndef CCURL_H
#define CCURL_H
#include <curl/curl.h>

/* libcurl for Swift: typed entry points for the variadic curl_easy_setopt/curl_easy_getinfo, which Swift
 * cannot call, and a once-only global init. libcurl is linked normally: the Runtime API client needs it
 * before the first event, so loading it lazily would only move the cost. */

typedef size_t (*ccurl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

/* curl_global_init, exactly once per process (thread-safe). Returns CURLE_OK or its error. */
CURLcode ccurl_global_init_once(void);

CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v);
CURLcode ccurl_setopt_off(CURL *h, CURLoption o, curl_off_t v);
CURLcode ccurl_setopt_ptr(CURL *h, CURLoption o, const void *v);
CURLcode ccurl_setopt_str(CURL *h, CURLoption o, const char *v);
CURLcode ccurl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v);
CURLcode ccurl_setopt_callback(CURL *h, CURLoption o, ccurl_data_callback f);
/* Restricts a handle to HTTP and HTTPS, for requests and for redirects: a URL from configuration (or a
 * redirect) can then never reach file://, gopher://, ldap://, smtp:// or another of libcurl's protocols.
 * Uses CURLOPT_PROTOCOLS_STR where libcurl has it (7.85+), the older bitmask otherwise. */
CURLcode ccurl_restrict_protocols(CURL *h);

CURLcode ccurl_getinfo_long(CURL *h, CURLINFO i, long *v);

/* AWS Signature V4 signing by libcurl (7.75+): `provider` is "aws:amz:<region>:<service>", `userpwd` is
 * "<access key id>:<secret access key>". NULL for both turns signing off again (the handle is reused).
 * Returns CURLE_NOT_BUILT_IN on a libcurl without it, so the caller can say so instead of sending unsigned. */
CURLcode ccurl_set_aws_sigv4(CURL *h, const char *provider, const char *userpwd);

#endif
