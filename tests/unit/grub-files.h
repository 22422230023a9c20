/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Real /etc/default/grub files the GRUB tests share, byte for byte. */

/* Debian 12's stock file (grub2-common 2.06-13+deb12u2, /usr/share/grub/default/grub). */
static const char debian12[] =
    "# If you change this file, run 'update-grub' afterwards to update\n"
    "# /boot/grub/grub.cfg.\n"
    "# For full documentation of the options in this file, see:\n"
    "#   info -f grub -n 'Simple configuration'\n"
    "\n"
    "GRUB_DEFAULT=0\n"
    "GRUB_TIMEOUT=5\n"
    "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
    "GRUB_CMDLINE_LINUX=\"\"\n"
    "\n"
    "# If your computer has multiple operating systems installed, then you\n"
    "# probably want to run os-prober. However, if your computer is a host\n"
    "# for guest OSes installed via LVM or raw disk devices, running\n"
    "# os-prober can cause damage to those guest OSes as it mounts\n"
    "# filesystems to look for things.\n"
    "GRUB_DISABLE_OS_PROBER=true\n"
    "\n"
    "# Uncomment to enable BadRAM filtering, modify to suit your needs\n"
    "# This works with Linux (no patch required) and with any kernel that obtains\n"
    "# the memory map information from GRUB (GNU Mach, kernel of FreeBSD ...)\n"
    "#GRUB_BADRAM=\"0x01234567,0xfefefefe,0x89abcdef,0xefefefef\"\n"
    "\n"
    "# Uncomment to disable graphical terminal\n"
    "#GRUB_TERMINAL=console\n"
    "\n"
    "# The resolution used on graphical terminal\n"
    "# note that you can use only modes which your graphic card supports via VBE\n"
    "# you can see them in real GRUB with the command `vbeinfo'\n"
    "#GRUB_GFXMODE=640x480\n"
    "\n"
    "# Uncomment if you don't want GRUB to pass \"root=UUID=xxx\" parameter to Linux\n"
    "#GRUB_DISABLE_LINUX_UUID=true\n"
    "\n"
    "# Uncomment to disable generation of recovery mode menu entries\n"
    "#GRUB_DISABLE_RECOVERY=\"true\"\n"
    "\n"
    "# Uncomment to get a beep at grub start\n"
    "#GRUB_INIT_TUNE=\"480 440 1\"\n";

/* Fedora's, with GRUB reading BLS entries (GRUB_ENABLE_BLSCFG=true). */
static const char fedora_grub[] = "GRUB_TIMEOUT=5\n"
                                  "GRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
                                  "GRUB_DEFAULT=saved\n"
                                  "GRUB_DISABLE_SUBMENU=true\n"
                                  "GRUB_TERMINAL_OUTPUT=\"console\"\n"
                                  "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n"
                                  "GRUB_DISABLE_RECOVERY=\"true\"\n"
                                  "GRUB_ENABLE_BLSCFG=true\n";
