/* agent_http.h: one JSON POST to an OpenAI-compatible server, with libcurl. */
#ifndef NSR_AGENT_HTTP_H
#define NSR_AGENT_HTTP_H

#include "nsr_core.h"

/* Largest reply body accepted; a longer one is an error, not a crash. */
#define AGENT_HTTP_MAX_REPLY (16u << 20)

typedef struct agent_http_reply {
  long status; /* HTTP status */
  char *body;  /* NUL-terminated; free with nsr_free */
  size_t len;
} agent_http_reply;

/* Sets libcurl up once per process; call before the first post. */
nsr_code agent_http_init(nsr_error *err);
void agent_http_cleanup(void);

/* POSTs `body` (JSON) to `url`, with "Authorization: Bearer KEY" when
 * api_key is not NULL, waiting at most timeout_s seconds in all. A reply of
 * any status fills *reply; failing to get one is NSR_ERR_IO with a message
 * saying which: the server is unreachable, the request timed out, or the
 * transfer broke. */
nsr_code agent_http_post(const char *url, const char *api_key, const char *body,
                         long timeout_s, agent_http_reply *reply, nsr_error *err);

#endif
