// SPDX-License-Identifier: MIT
#pragma once

// Waiting on descriptors and the descriptors made to be waited on: poll and select (poll.cpp),
// epoll (epoll.cpp), eventfd (eventfd.cpp), timerfd (timerfd.cpp), signalfd (signalfd.cpp).

namespace atl::libos {

long sys_poll(long fds, long nfds, long timeout_ms);
long sys_ppoll(long fds, long nfds, long ts, long mask, long masksize);
long sys_select(long nfds, long readfds, long writefds, long exceptfds, long tv);
long sys_pselect6(long nfds, long readfds, long writefds, long exceptfds, long ts, long sigdata);
long sys_epoll_create(long size);
long sys_epoll_create1(long flags);
long sys_epoll_ctl(long epfd, long op, long fd, long event);
long sys_epoll_wait(long epfd, long events, long maxevents, long timeout_ms);
long sys_epoll_pwait(long epfd, long events, long maxevents, long timeout_ms, long mask, long masksize);
long sys_eventfd(long initval);
long sys_eventfd2(long initval, long flags);
long sys_timerfd_create(long clock, long flags);
long sys_timerfd_settime(long fd, long flags, long new_value, long old_value);
long sys_timerfd_gettime(long fd, long cur);
long sys_signalfd4(long fd, long maskp, long size, long flags);

// A signal was queued somewhere: signalfds watching it wake their readers (signalfd.cpp).
void signalfd_notify(int sig);

} // namespace atl::libos
