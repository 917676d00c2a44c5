// SPDX-License-Identifier: MIT
#pragma once

// Intrusive doubly linked list: the object holds its ListNode, so putting a thread on a run
// queue or a wait queue never allocates. Portable, unit-tested.

#include <cstddef>

namespace atl {

struct ListNode {
    ListNode* prev = nullptr;
    ListNode* next = nullptr;
    bool linked() const { return next != nullptr; }
};

template <typename T, ListNode T::*Node>
class List {
public:
    List() { m_head.prev = m_head.next = &m_head; }
    List(const List&) = delete;
    List& operator=(const List&) = delete;

    bool empty() const { return m_head.next == &m_head; }
    std::size_t size() const { return m_size; }

    void push_back(T* item) { insert_before(&m_head, item); }
    void push_front(T* item) { insert_before(m_head.next, item); }

    // Inserts before `pos` (nullptr: at the end).
    void insert_before(T* pos, T* item) { insert_before(pos ? &(pos->*Node) : &m_head, item); }

    void remove(T* item)
    {
        ListNode& n = item->*Node;
        n.prev->next = n.next;
        n.next->prev = n.prev;
        n.prev = n.next = nullptr;
        --m_size;
    }

    T* front() const { return empty() ? nullptr : from_node(m_head.next); }
    T* pop_front()
    {
        T* item = front();
        if (item)
            remove(item);
        return item;
    }
    T* next(T* item) const
    {
        ListNode* n = (item->*Node).next;
        return n == &m_head ? nullptr : from_node(n);
    }

    // Keeps the list sorted by `less`: inserts after every element that is not greater, so
    // equal keys stay in insertion order (a timer queue fires equal deadlines FIFO).
    template <typename Less>
    void insert_sorted(T* item, Less less)
    {
        T* pos = front();
        while (pos && !less(*item, *pos))
            pos = next(pos);
        insert_before(pos, item);
    }

private:
    void insert_before(ListNode* at, T* item)
    {
        ListNode& n = item->*Node;
        n.next = at;
        n.prev = at->prev;
        at->prev->next = &n;
        at->prev = &n;
        ++m_size;
    }
    static T* from_node(ListNode* n)
    {
        // Offset of the member within T, computed without UB on a null object.
        alignas(T) static unsigned char probe[sizeof(T)];
        auto* t = reinterpret_cast<T*>(probe);
        std::size_t off = reinterpret_cast<unsigned char*>(&(t->*Node)) - probe;
        return reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(n) - off);
    }

    ListNode m_head;
    std::size_t m_size = 0;
};

} // namespace atl
