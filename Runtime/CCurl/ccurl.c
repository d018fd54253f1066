#include "ccurl.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded = 0;
static char load_error[256] = "libcurl not loaded";

static CURLcode (*p_global_init)(long);
static CURL *(*p_easy_init)(void);
static void (*p_easy_cleanup)(CURL *);
static CURLcode (*p_easy_perform)(CURL *);
static const char *(*p_easy_strerror)(CURLcode);
static CURLcode (*p_easy_setopt)(CURL *, CURLoption, ...);
static CURLcode (*p_easy_getinfo)(CURL *, CURLINFO, ...);
static struct curl_slist *(*p_slist_append)(struct curl_slist *, const char *);
static void (*p_slist_free_all)(struct curl_slist *);

static void load(void) {
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_error, sizeof load_error, "cannot load libcurl.so.4: %s", dlerror());
        return;
    }
#define SYM(var, name) if (!(*(void **)&var = dlsym(lib, name))) { snprintf(load_error, sizeof load_error, "libcurl lacks %s", name); return; }
    SYM(p_global_init, "curl_global_init")
    SYM(p_easy_init, "curl_easy_init")
    SYM(p_easy_cleanup, "curl_easy_cleanup")
    SYM(p_easy_perform, "curl_easy_perform")
    SYM(p_easy_strerror, "curl_easy_strerror")
    SYM(p_easy_setopt, "curl_easy_setopt")
    SYM(p_easy_getinfo, "curl_easy_getinfo")
    SYM(p_slist_append, "curl_slist_append")
    SYM(p_slist_free_all, "curl_slist_free_all")
#undef SYM
    if (p_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed");
        return;
    }
    loaded = 1;
}

int ccurl_load(void) { pthread_once(&once, load); return loaded; }
const char *ccurl_load_error(void) { return load_error; }

CURL *ccurl_easy_init(void) { return p_easy_init(); }
void ccurl_easy_cleanup(CURL *h) { p_easy_cleanup(h); }
CURLcode ccurl_easy_perform(CURL *h) { return p_easy_perform(h); }
const char *ccurl_easy_strerror(CURLcode code) { return p_easy_strerror(code); }
struct curl_slist *ccurl_slist_append(struct curl_slist *l, const char *s) { return p_slist_append(l, s); }
void ccurl_slist_free_all(struct curl_slist *l) { if (l) p_slist_free_all(l); }

CURLcode ccurl_setopt_long(CURL *h, CURLoption o, long v) { return p_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return p_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return p_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_str(CURL *h, CURLoption o, const char *v) { return p_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return p_easy_setopt(h, o, v); }
CURLcode ccurl_setopt_callback(CURL *h, CURLoption o, ccurl_data_callback f) { return p_easy_setopt(h, o, f); }
CURLcode ccurl_getinfo_long(CURL *h, CURLINFO i, long *v) { return p_easy_getinfo(h, i, v); }
