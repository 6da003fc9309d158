/* progress.c: TTY-aware progress bar. */
#include "progress.h"

#include <unistd.h>

#include "nsr_core.h"

#define PROGRESS_REDRAW_NS 100000000ULL /* 100 ms */
#define PROGRESS_BAR_WIDTH 30

void nsr_progress_start_on(nsr_progress *bar, FILE *stream, const char *label,
                           uint64_t total, bool force) {
  bar->stream = stream;
  bar->label = label;
  bar->total = total;
  bar->start_ns = nsr_now_ns();
  bar->last_draw_ns = 0;
  bar->active = force || isatty(fileno(stream));
  bar->drawn = false;
}

void nsr_progress_start(nsr_progress *bar, const char *label, uint64_t total) {
  nsr_progress_start_on(bar, stderr, label, total, false);
}

static void progress_draw(nsr_progress *bar, uint64_t done, const char *extra) {
  double elapsed = nsr_seconds_since(bar->start_ns);
  double rate = elapsed > 0 ? (double)done / elapsed : 0.0;
  fprintf(bar->stream, "\r%s ", bar->label);
  if (bar->total > 0) {
    uint64_t shown = done > bar->total ? bar->total : done;
    int filled = (int)(PROGRESS_BAR_WIDTH * shown / bar->total);
    fputc('[', bar->stream);
    for (int i = 0; i < PROGRESS_BAR_WIDTH; i++) {
      fputc(i < filled ? '#' : '.', bar->stream);
    }
    fprintf(bar->stream, "] %3d%% %llu/%llu", (int)(100 * shown / bar->total),
            (unsigned long long)done, (unsigned long long)bar->total);
  } else {
    fprintf(bar->stream, "%llu", (unsigned long long)done);
  }
  fprintf(bar->stream, " %.1f/s", rate);
  if (extra != NULL && extra[0] != '\0') fprintf(bar->stream, " %s", extra);
  fputs("\033[K", bar->stream); /* clear the rest of a longer old line */
  fflush(bar->stream);
  bar->drawn = true;
}

void nsr_progress_update(nsr_progress *bar, uint64_t done, const char *extra) {
  if (!bar->active) return;
  uint64_t now = nsr_now_ns();
  if (bar->drawn && now - bar->last_draw_ns < PROGRESS_REDRAW_NS) return;
  bar->last_draw_ns = now;
  progress_draw(bar, done, extra);
}

void nsr_progress_finish(nsr_progress *bar, uint64_t done, const char *extra) {
  if (!bar->active) return;
  progress_draw(bar, done, extra);
  fputc('\n', bar->stream);
  fflush(bar->stream);
  bar->active = false;
}
