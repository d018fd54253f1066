#ifndef CCURL_H
#define CCURL_H
#include <curl/curl.h>

/* libcurl, loaded on first use.
 *
 * Linking libcurl pulls about ten more shared libraries into every process start (2.5 ms of each cold
 * start, measured), while only the functions that call out (JWKS, profile service) need it, and only
 * after init. ccurl_load() dlopens libcurl.so.4 once; every other entry point requires it to have
 * returned 1. Each setopt/getinfo entry is also typed, because the real ones are variadic and Swift
 * cannot call variadic C functions. */

typedef size_t (*ccurl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

/* 1 when libcurl is usable; 0 with ccurl_load_error() describing why not. Thread-safe, runs once. */
int ccurl_load(void);
const char *ccurl_load_error(void);

CURL *ccurl_easy_init(void);
void ccurl_easy_cleanup(CURL *h);
CURLcode ccurl_easy_perform(CURL *h);
const char *ccurl_easy_strerror(CURLcode code);
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *line);
void ccurl_slist_free_all(struct curl_slist *list);

CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v);
CURLcode ccurl_setopt_off(CURL *h, CURLoption o, curl_off_t v);
CURLcode ccurl_setopt_ptr(CURL *h, CURLoption o, const void *v);
CURLcode ccurl_setopt_str(CURL *h, CURLoption o, const char *v);
CURLcode ccurl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v);
CURLcode ccurl_setopt_callback(CURL *h, CURLoption o, ccurl_data_callback f);
CURLcode ccurl_getinfo_long(CURL *h, CURLINFO i, long *v);

#endif
