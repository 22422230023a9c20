/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The layer rule at link time (src/meson.build): each layer's library is linked whole into a
 * program with only the layers below it, so a call that reaches upward is an undefined symbol
 * and the build fails. The program itself does nothing. */
int main(void)
{
        return 0;
}
