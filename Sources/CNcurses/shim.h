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
