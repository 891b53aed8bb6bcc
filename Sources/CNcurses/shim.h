#ifndef DNSFLOW_CNCURSES_SHIM_H
#define DNSFLOW_CNCURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <stdio.h>
#include <wchar.h>
#include <ncursesw/curses.h>

/* ncurses macros and globals Swift cannot import, as functions (dnsflow_ prefix). */
static inline WINDOW *dnsflow_stdscr(void) { return stdscr; }
static inline int dnsflow_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int dnsflow_lines(void) { return LINES; }
static inline int dnsflow_cols(void) { return COLS; }
static inline int dnsflow_attr_reverse(void) { return (int)A_REVERSE; }
static inline int dnsflow_attr_bold(void) { return (int)A_BOLD; }
static inline int dnsflow_attr_dim(void) { return (int)A_DIM; }
static inline int dnsflow_attr_underline(void) { return (int)A_UNDERLINE; }
static inline void dnsflow_set_locale(void) { setlocale(LC_ALL, ""); }
static inline FILE *dnsflow_stdout(void) { return stdout; }
static inline FILE *dnsflow_stdin(void) { return stdin; }
static inline mmask_t dnsflow_mouse_all(void) { return ALL_MOUSE_EVENTS; }
#include <signal.h>
#include <string.h>

/* A crash (a Swift trap is SIGILL or SIGTRAP) must not leave the terminal in curses mode: restore it, then die
   of the same signal. endwin is not async-signal-safe, but the process is ending and the alternative is a
   terminal without echo. */
static void dnsflow_crash_restore(int sig) {
    endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}
static inline void dnsflow_install_crash_restore(void) {
    int signals[] = { SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE };
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = dnsflow_crash_restore;
        sa.sa_flags = SA_RESETHAND;
        sigaction(signals[i], &sa, NULL);
    }
}

/* 0: other, 1: click (press or click of button 1), 4: wheel up, 5: wheel down. */
static inline int dnsflow_mouse_kind(mmask_t b) {
    if (b & (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED)) return 1;
    if (b & BUTTON4_PRESSED) return 4;
#ifdef BUTTON5_PRESSED
    if (b & BUTTON5_PRESSED) return 5;
#endif
    return 0;
}
#endif
