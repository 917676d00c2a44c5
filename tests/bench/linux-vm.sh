# SPDX-License-Identifier: MIT
# The Linux microVM that the benchmarks compare Atoll with: Debian's cloud kernel and a busybox
# initramfs holding the same programs Atoll runs (syscallbench, httpd, built statically for
# Linux), booted with `-M microvm` by the same QEMU binary and accelerator. Sourced by run-all.sh.
#
# The kernel and busybox come from Debian packages (`apt-get download`), cached in
# ~/.cache/atoll/linux-vm/. /init reads what to do from the kernel command line (the kernel hands
# unknown key=value words to init as environment variables):
#   atoll_bench=boot      print the marker and power off
#   atoll_bench=syscall   run /syscallbench $atoll_arg, power off
#   atoll_bench=httpd     load the virtio-net modules, configure eth0 as $atoll_ip (CIDR),
#                         print the marker, run /httpd on port 80 over /www
#
# Flags, measured here (QEMU 7.2, TCG): this kernel boots only with microvm's default machine
# options (PIT, RTC, ACPI on); Atoll's minimal ones (pit=off, acpi=off, ...) stop it. Under TCG
# its PIT calibration of the TSC fails when the host is busy ("tsc: Unable to calibrate against
# PIT ... Marking TSC unstable") and the boot then stalls for good, so the host's TSC frequency
# is passed as tsc_early_khz= (TCG's guest TSC runs at the host's rate).

LINUX_VM_MARKER=ATOLL-LINUX-READY

# linux_vm_prepare DIR HTTPD_STATIC SYSCALLBENCH_STATIC WWW_DIR: writes DIR/vmlinuz and
# DIR/initrd.gz; prints the kernel package's name on stdout.
linux_vm_prepare() {
    local dir=$1 httpd=$2 syscallbench=$3 www=$4
    local cache=${XDG_CACHE_HOME:-$HOME/.cache}/atoll/linux-vm pkg
    pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then # no package lists yet on a fresh machine
        apt-get update -qq >&2 || true
        pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    fi
    [ -n "$pkg" ] || { echo "linux-vm: no linux-image-cloud-amd64 in the package index (apt-get update?)" >&2; return 1; }
    mkdir -p "$cache/$pkg" "$dir"
    if [ ! -f "$cache/$pkg/done" ]; then
        echo "linux-vm: fetching $pkg and busybox-static (apt-get download)" >&2
        (
            set -e
            cd "$cache/$pkg"
            rm -rf ./*.deb kernel busybox
            apt-get download -o APT::Sandbox::User=root "$pkg" busybox-static >&2
            dpkg-deb -x "$pkg"_*.deb kernel
            dpkg-deb -x busybox-static_*.deb busybox
            rm -f ./*.deb
            touch done
        ) || { echo "linux-vm: could not fetch or unpack $pkg / busybox-static" >&2; return 1; }
    fi
    local root=$dir/initramfs modules
    modules=$(echo "$cache/$pkg"/kernel/lib/modules/*/kernel)
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/lib/modules" "$root/www"
    cp "$cache/$pkg"/kernel/boot/vmlinuz-* "$dir/vmlinuz"
    cp "$cache/$pkg/busybox/bin/busybox" "$root/bin/busybox"
    # virtio-net over virtio-mmio, in dependency order (the package has no modules.dep: depmod
    # runs at install time). The cloud kernel finds microvm's virtio-mmio devices through ACPI.
    local m
    for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_mmio \
        net/core/failover drivers/net/net_failover drivers/net/virtio_net; do
        cp "$modules/$m.ko" "$root/lib/modules/" || return 1
    done
    strip -o "$root/httpd" "$httpd" && strip -o "$root/syscallbench" "$syscallbench" || return 1
    cp -r "$www/." "$root/www/"
    cat >"$root/init" <<'EOF'
#!/bin/busybox sh
export PATH=/bin
/bin/busybox --install -s /bin
case "$atoll_bench" in
boot)
    echo ATOLL-LINUX-READY
    ;;
syscall)
    /syscallbench "$atoll_arg"
    ;;
httpd)
    mount -t proc proc /proc
    for m in virtio_ring virtio virtio_mmio failover net_failover virtio_net; do
        insmod /lib/modules/$m.ko || echo "init: insmod $m failed"
    done
    ip link set lo up
    ip addr add "$atoll_ip" dev eth0 && ip link set eth0 up || echo "init: no eth0"
    [ -n "$atoll_gw" ] && ip route add default via "$atoll_gw"
    echo ATOLL-LINUX-READY
    /httpd --listen 80 --root /www --no-access-log
    ;;
*)
    echo "init: unknown atoll_bench='$atoll_bench'"
    ;;
esac
poweroff -f
EOF
    chmod +x "$root/init"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -9 >"$dir/initrd.gz") || return 1
    echo "$pkg"
}

# linux_vm_cmd DIR MEM MODE [KEY=VALUE...] [-- QEMU_ARGS...]: the QEMU command, one word per line.
linux_vm_cmd() {
    local dir=$1 mem=$2 mode=$3 accel=tcg khz
    shift 3
    local -a params=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do params+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    grep -qE '\b(vmx|svm)\b' /proc/cpuinfo && [ -w /dev/kvm ] && accel=kvm
    khz=$(awk '/^cpu MHz/ { printf "%d", $4 * 1000; exit }' /proc/cpuinfo)
    printf '%s\n' qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot -m "$mem" \
        -M microvm -accel "$accel" -cpu max -serial stdio -global virtio-mmio.force-legacy=false \
        -kernel "$dir/vmlinuz" -initrd "$dir/initrd.gz" \
        -append "console=ttyS0 quiet panic=-1 tsc_early_khz=$khz atoll_bench=$mode ${params[*]}" "$@"
}
