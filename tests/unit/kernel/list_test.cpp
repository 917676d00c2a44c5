// SPDX-License-Identifier: MIT
// The intrusive list is the scheduler's run queue, wait queues and (sorted) timer queue.
#include <kernel/list.h>

#include <gtest/gtest.h>

#include <vector>

using atl::List;
using atl::ListNode;

namespace {

struct Item {
    int id = 0;
    unsigned long deadline = 0;
    ListNode run;
    ListNode timer;
};
using RunQueue = List<Item, &Item::run>;
using TimerQueue = List<Item, &Item::timer>;

template <typename L>
std::vector<int> ids(const L& l)
{
    std::vector<int> out;
    for (Item* i = l.front(); i; i = l.next(i))
        out.push_back(i->id);
    return out;
}

TEST(List, FifoRunQueue)
{
    Item a { 1 }, b { 2 }, c { 3 };
    RunQueue q;
    EXPECT_TRUE(q.empty());
    q.push_back(&a);
    q.push_back(&b);
    q.push_front(&c);
    EXPECT_EQ(ids(q), (std::vector<int> { 3, 1, 2 }));
    EXPECT_EQ(q.size(), 3u);
    EXPECT_EQ(q.pop_front(), &c);
    q.remove(&b);
    EXPECT_FALSE(b.run.linked());
    EXPECT_EQ(ids(q), (std::vector<int> { 1 }));
    EXPECT_EQ(q.pop_front(), &a);
    EXPECT_EQ(q.pop_front(), nullptr);
    EXPECT_TRUE(q.empty());
}

TEST(List, OneObjectOnTwoListsAtOnce)
{
    Item a { 1 }, b { 2 };
    RunQueue q;
    TimerQueue t;
    q.push_back(&a);
    q.push_back(&b);
    t.push_back(&b);
    q.remove(&b);
    EXPECT_TRUE(b.timer.linked());
    EXPECT_EQ(ids(t), (std::vector<int> { 2 }));
    EXPECT_EQ(ids(q), (std::vector<int> { 1 }));
}

TEST(List, TimerQueueSortedAndFifoForEqualDeadlines)
{
    std::vector<Item> items(6);
    unsigned long deadlines[] = { 50, 10, 30, 10, 70, 30 };
    TimerQueue t;
    auto less = [](const Item& x, const Item& y) { return x.deadline < y.deadline; };
    for (int i = 0; i < 6; ++i) {
        items[i].id = i;
        items[i].deadline = deadlines[i];
        t.insert_sorted(&items[i], less);
    }
    EXPECT_EQ(ids(t), (std::vector<int> { 1, 3, 2, 5, 0, 4 }));
    // Cancel one from the middle (a waiter woken before its timeout).
    t.remove(&items[2]);
    EXPECT_EQ(ids(t), (std::vector<int> { 1, 3, 5, 0, 4 }));
    // Expire everything up to 30.
    std::vector<int> fired;
    while (Item* first = t.front()) {
        if (first->deadline > 30)
            break;
        fired.push_back(t.pop_front()->id);
    }
    EXPECT_EQ(fired, (std::vector<int> { 1, 3, 5 }));
    EXPECT_EQ(t.size(), 2u);
}

} // namespace
