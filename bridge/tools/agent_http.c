/* agent_http.c: JSON over HTTP with libcurl. */
#include "nsr_tools.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

nsr_code agent_http_init(nsr_error *err) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    return nsr_fail(err, NSR_ERR_INTERNAL, "libcurl failed to initialise");
  }
  return NSR_OK;
}

void agent_http_cleanup(void) { curl_global_cleanup(); }

typedef struct sink {
  nsr_strbuf buf;
  bool too_big;
} sink;

/* libcurl's write callback: collects the body, refusing past the cap
 * (returning less than given makes libcurl abort the transfer). */
static size_t collect(char *data, size_t size, size_t n, void *p) {
  sink *s = p;
  size_t len = size * n;
  if (s->buf.len + len > AGENT_HTTP_MAX_REPLY) {
    s->too_big = true;
    return 0;
  }
  nsr_strbuf_append(&s->buf, data, len);
  return s->buf.failed ? 0 : len;
}

/* Words for the transfer failures a user can do something about. */
static nsr_code transfer_error(CURLcode rc, const char *url, long timeout_s, const sink *s,
                               const char *detail, nsr_error *err) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return nsr_fail(err, NSR_ERR_IO, "cannot reach the server at %s: %s", url, detail);
    case CURLE_OPERATION_TIMEDOUT:
      return nsr_fail(err, NSR_ERR_IO, "no reply from %s within %ld s (--timeout)", url, timeout_s);
    case CURLE_WRITE_ERROR:
      if (s->too_big) {
        return nsr_fail(err, NSR_ERR_LIMIT, "the reply from %s is larger than %u bytes", url,
                        AGENT_HTTP_MAX_REPLY);
      }
      return nsr_fail(err, NSR_ERR_NOMEM, "reading the reply from %s: out of memory", url);
    default:
      return nsr_fail(err, NSR_ERR_IO, "request to %s failed: %s", url, detail);
  }
}

nsr_code agent_http_post(const char *url, const char *api_key, const char *body,
                         long timeout_s, agent_http_reply *reply, nsr_error *err) {
  memset(reply, 0, sizeof *reply);
  CURL *curl = curl_easy_init();
  if (curl == NULL) return nsr_fail(err, NSR_ERR_NOMEM, "libcurl: out of memory");
  char auth[1024];
  if (api_key && (size_t)snprintf(auth, sizeof auth, "Authorization: Bearer %s", api_key) >= sizeof auth) {
    curl_easy_cleanup(curl);
    return nsr_fail(err, NSR_ERR_INVALID, "the API key is longer than %zu bytes",
                    sizeof auth - sizeof "Authorization: Bearer ");
  }
  struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
  if (api_key) {
    struct curl_slist *more = headers ? curl_slist_append(headers, auth) : NULL;
    if (more == NULL) curl_slist_free_all(headers);
    headers = more;
  }
  sink s = {0};
  char detail[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_s < 10 ? timeout_s : 10L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
  /* Only web protocols: a URL must not read files or speak to other services. */
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = headers ? curl_easy_perform(curl) : CURLE_OUT_OF_MEMORY;
  nsr_code out = NSR_OK;
  if (rc != CURLE_OK) {
    out = transfer_error(rc, url, timeout_s, &s, detail[0] ? detail : curl_easy_strerror(rc), err);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
    out = nsr_strbuf_finish(&s.buf, &reply->body, &reply->len, err);
  }
  nsr_strbuf_free(&s.buf);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return out;
}
