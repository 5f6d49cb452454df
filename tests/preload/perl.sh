#!/bin/sh
# perl.sh - a hash- and string-heavy perl one-liner prints the same under
# LD_PRELOAD as under glibc; its small requests are served by the pools.
. "$top_srcdir/tests/preload/common.sh"
[ -n "${PERL:-}" ] || skip "perl not found by configure"

# Hash order is randomised per process unless fixed; the script sorts anyway.
export PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0
script='my %h; for my $i (1..150000) { my $k = "key" . ($i * 7919 % 50021) . ("x" x ($i % 23)); $h{$k} .= chr(65 + $i % 26); }
my @k = sort keys %h; my $len = 0; $len += length($h{$_}) for @k;
my $s = join(",", map { uc } @k[0..999]); $s =~ s/KEY/k/g; my @parts = split /,/, $s;
my %count; $count{length $_}++ for @parts;
print scalar(@k), " $len ", length($s), " ", join(" ", map { "$_=$count{$_}" } sort { $a <=> $b } keys %count), "\n";
delete $h{$_} for @k[0..$#k/2]; print scalar(keys %h), "\n";'

compare_run perl "$PERL" -e "$script"
[ -s "$tmp/perl.poolgc.out" ] || fail "perl printed nothing under poolgc"
stats_run perl "$PERL" -e "$script" || fail "perl failed with POOLGC_STATS=json (rc $rc)"
cmp -s "$tmp/perl.glibc.out" "$tmp/perl.stats.out" || fail "perl's output changed with POOLGC_STATS=json"
check_pools perl
exit 0
