#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# gen-manpage.pl - write the manual page xen_drm_zcopy(4) from the sources
# that define what it describes, so that it cannot drift from them:
#
#   uapi/drm/xen_zcopy_drm.h  kernel-doc: DOC: blocks, every ioctl with its
#                             struct and fields, every flag and constant
#   docs/design.md            the errno table, the debugfs contract, the
#                             sections on grant units and page sizes
#   src/*.c                   module_param*() + MODULE_PARM_DESC()
#
# It fails (exit 1, one line per problem) when the header has an ioctl
# without a struct, a struct or member without kernel-doc, a flag or
# constant without a "@NAME:" line, a module parameter without a
# description, an errno named in the header but missing from the errno
# table, or when the page it wrote does not name all of them.
#
# Usage:
#   scripts/gen-manpage.pl [-o FILE] [--version V] [--top DIR]
#   scripts/gen-manpage.pl --modprobe-example FILE
#       also write an example /etc/modprobe.d file with every module
#       parameter (commented out, at its default)
#   scripts/gen-manpage.pl --check PAGE[.gz] [--top DIR]
#       only verify that an existing page (e.g. the installed one) names
#       every ioctl, struct, member, flag, constant, module parameter and
#       errno of the sources in DIR (default: this script's repository)
# The date in the page is $SOURCE_DATE_EPOCH (set by dpkg-buildpackage),
# else today; --version defaults to PACKAGE_VERSION of dkms.conf.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use Getopt::Long;
use POSIX qw(strftime);

my $top = dirname(dirname(abs_path(__FILE__)));
my ($out, $version, $check, $modprobe);
GetOptions('o=s' => \$out, 'version=s' => \$version, 'top=s' => \$top,
	   'check=s' => \$check, 'modprobe-example=s' => \$modprobe)
	or die "usage: $0 [-o FILE] [--version V] [--top DIR] [--check PAGE] [--modprobe-example FILE]\n";

my $HEADER = "$top/uapi/drm/xen_zcopy_drm.h";
my $DESIGN = "$top/docs/design.md";
my @errors;
sub problem { push @errors, "@_"; }

sub slurp {
	my ($f) = @_;
	open(my $fh, '<', $f) or die "gen-manpage: $f: $!\n";
	local $/;
	return scalar <$fh>;
}

# ------------------------------------------------------------ the header
# kernel-doc comment body: strip "/**", "*/" and the leading " * "
sub doc_lines {
	my ($c) = @_;
	$c =~ s{^\s*/\*\*\s?}{};
	$c =~ s{\s*\*/$}{};
	my @l = map { s/^\s*\* ?//r } split /\n/, $c;
	return @l;
}

my (%doc, @doc_order);		# DOC: title -> [lines]
my (%struct, @struct_order);	# name -> { short, long => [lines], members => [...] }
my (%const, @const_order);	# name -> { value, doc, mask => [names] }
my (%ioctl, @ioctl_order);	# name -> { dir, cmd, struct }
my %cmd;			# DRM_XEN_ZCOPY_* -> value

my $h = slurp($HEADER);
{
	my $pending;		# doc of the next #define / struct
	my @lines = split /\n/, $h;
	for (my $i = 0; $i < @lines; $i++) {
		my $l = $lines[$i];
		if ($l =~ m{^/\*\*}) {
			my $c = $l;
			while ($c !~ m{\*/} && $i + 1 < @lines) { $c .= "\n" . $lines[++$i]; }
			my @d = doc_lines($c);
			if ($d[0] =~ /^DOC:\s*(.+?)\s*$/) {
				push @doc_order, $1;
				$doc{$1} = [@d[1 .. $#d]];
			} else {
				$pending = [@d];
			}
			next;
		}
		if ($l =~ /^#define\s+(\w+)\s*(.*)$/) {
			my ($name, $val) = ($1, $2);
			while ($val =~ s/\\\s*$// && $i + 1 < @lines) { $val .= ' ' . $lines[++$i]; }
			$val =~ s/\s+/ /g;
			$val =~ s/^\s+|\s+$//g;
			my $d = $pending;
			$pending = undef;
			next if $name =~ /^__XEN_ZCOPY_DRM_H__$/;
			if ($name =~ /^DRM_IOCTL_XEN_ZCOPY_/) {
				if ($val =~ /^DRM_IO(WR|W|R)?\s*\(\s*DRM_COMMAND_BASE\s*\+\s*(\w+)\s*,\s*struct\s+(\w+)\s*\)$/) {
					$ioctl{$name} = { dir => $1 // '', cmd => $2, struct => $3 };
					push @ioctl_order, $name;
				} elsif ($val =~ /^DRM_IO\s*\(\s*DRM_COMMAND_BASE\s*\+\s*(\w+)\s*\)$/) {
					$ioctl{$name} = { dir => '', cmd => $1, struct => '' };
					push @ioctl_order, $name;
				} else {
					problem("$HEADER: cannot parse ioctl $name = $val");
				}
				next;
			}
			if ($name =~ /^DRM_XEN_ZCOPY_/) { $cmd{$name} = $val; next; }
			my %c = (value => $val);
			if ($d && $d->[0] =~ /^\@\Q$name\E:\s*(.*)$/) {
				$c{doc} = [$1, @{$d}[1 .. $#$d]];
			} elsif ($val =~ /^\(?\s*\w+(?:\s*\|\s*\w+)+\s*\)?$/) {
				$c{mask} = [$val =~ /(\w+)/g];
			} else {
				problem("$HEADER: #define $name has no kernel-doc line (/** \@$name: ... */)");
			}
			$const{$name} = \%c;
			push @const_order, $name;
			next;
		}
		if ($l =~ /^struct\s+(drm_xen_zcopy_\w+)\s*\{/) {
			my $name = $1;
			my %s = (members => []);
			if ($pending && $pending->[0] =~ /^struct\s+\Q$name\E\s+-\s+(.*)$/) {
				$s{short} = $1;
				my @long = @{$pending}[1 .. $#$pending];
				shift @long while @long && $long[0] eq '';
				$s{long} = \@long;
			} else {
				problem("$HEADER: struct $name has no kernel-doc (/** struct $name - ... */)");
				$s{short} = '';
				$s{long} = [];
			}
			$pending = undef;
			my ($mdoc, $union) = (undef, 0);
			while (++$i < @lines) {
				my $m = $lines[$i];
				last if $m =~ /^\};/;
				if ($m =~ m{^\s*/\*\*}) {
					my $c = $m;
					while ($c !~ m{\*/} && $i + 1 < @lines) { $c .= "\n" . $lines[++$i]; }
					$mdoc = [doc_lines($c)];
					next;
				}
				if ($m =~ /^\s*union\s*\{/) { $union = 1; next; }
				if ($m =~ /^\s*\}\s*;/) { $union = 0; next; }
				next if $m =~ /^\s*$/;
				if ($m =~ /^\s*((?:struct\s+)?\w+)\s*(\*?)\s*(\w+)\s*(\[\w+\])?\s*;/) {
					my ($type, $ptr, $mname, $arr) = ($1, $2, $3, $4 // '');
					my %mem = (name => $mname, type => "$type$ptr$arr", union => $union);
					$mem{type} = "$type *$arr" if $ptr;
					if ($mdoc && $mdoc->[0] =~ /^\@\Q$mname\E:\s*(.*)$/) {
						$mem{doc} = [$1, @{$mdoc}[1 .. $#$mdoc]];
					} else {
						problem("$HEADER: struct $name member $mname has no kernel-doc (/** \@$mname: ... */)");
						$mem{doc} = [''];
					}
					$mdoc = undef;
					push @{$s{members}}, \%mem;
				} else {
					problem("$HEADER: struct $name: cannot parse '$m'");
				}
			}
			$struct{$name} = \%s;
			push @struct_order, $name;
			next;
		}
		$pending = undef if $l =~ /\S/ && $l !~ m{^\s*(/\*|\*)};
	}
}
for my $io (@ioctl_order) {
	my $s = $ioctl{$io}{struct};
	problem("$HEADER: $io: command index $ioctl{$io}{cmd} is not defined") unless exists $cmd{$ioctl{$io}{cmd}};
	problem("$HEADER: $io: no struct given (DRM_IO without an argument)") unless $s;
	problem("$HEADER: $io: struct $s is not defined in the header") if $s && !$struct{$s};
}
my %struct_used = map { $ioctl{$_}{struct} => 1 } @ioctl_order;
# a struct no ioctl takes is still documented, in its own section
my @extra_structs = grep { !$struct_used{$_} } @struct_order;
problem("$HEADER: no DOC: block describing the driver") unless @doc_order;
problem("$HEADER: no ioctls found") unless @ioctl_order;

# ------------------------------------------------------------ design.md
my $design = slurp($DESIGN);
my %section;			# "## Title" -> body
{
	my $cur;
	for my $l (split /\n/, $design) {
		if ($l =~ /^##\s+(.*?)\s*$/) { $cur = $1; $section{$cur} = ''; next; }
		$section{$cur} .= "$l\n" if defined $cur;
	}
}
sub find_section {
	my ($re, $required) = @_;
	my @t = grep { $_ =~ $re } sort keys %section;
	problem("$DESIGN: no section matching /$re/") if !@t && $required;
	return @t ? $t[0] : undef;
}
my $errno_title = find_section(qr/^errno/i, 1);
my $debugfs_title = find_section(qr/^debugfs/i, 1);
my @note_titles = grep { defined } map { find_section($_, 0) } (qr/^grant units/i, qr/^16K/i);

my @errnos;			# [name, text]
if ($errno_title) {
	for my $l (split /\n/, $section{$errno_title}) {
		next unless $l =~ /^\|\s*(E[A-Z0-9]+)\s*\|\s*(.*?)\s*\|\s*$/;
		push @errnos, [$1, $2];
	}
	problem("$DESIGN: the errno table has no rows") unless @errnos;
}
my %errno_known = map { $_->[0] => 1 } @errnos;
{
	my %seen;
	for my $e ($h =~ /-(E[A-Z][A-Z0-9]+)\b/g) {
		next if $seen{$e}++;
		problem("$HEADER names -$e, which the errno table of $DESIGN does not list") unless $errno_known{$e};
	}
}

# ------------------------------------------------------------ module parameters
my (@params, %param);
for my $f (sort glob("$top/src/*.c")) {
	my $c = slurp($f);
	while ($c =~ /\bmodule_param(?:_named)?\s*\(([^;]*?)\)\s*;/g) {
		my @a = map { s/^\s+|\s+$//gr } split /,/, $1;
		my ($name, $type, $perm) = @a == 4 ? @a[0, 2, 3] : @a[0, 1, 2];
		push @params, $name;
		$param{$name} = { type => $type, perm => $perm, file => $f };
	}
	# module_param_cb(name, &ops, &var, perm): the type is the variable's
	while ($c =~ /\bmodule_param_cb\s*\(([^;]*?)\)\s*;/g) {
		my ($name, $ops, $var, $perm) = map { s/^\s+|\s+$//gr } split /,/, $1;
		$var =~ s/^&//;
		my ($ctype) = $c =~ /^(?:static\s+)?((?:unsigned\s+)?\w+)\s+\Q$var\E\b/m;
		my %t = ('unsigned int' => 'uint', 'int' => 'int', 'bool' => 'bool',
			 'unsigned long' => 'ulong', 'long' => 'long');
		problem("$f: module parameter $name: type of $var unknown")
			unless defined $ctype && $t{$ctype};
		push @params, $name;
		$param{$name} = { type => $t{$ctype // ''} // 'uint', perm => $perm, file => $f };
	}
	while ($c =~ /\bMODULE_PARM_DESC\s*\(\s*(\w+)\s*,((?:\s*"(?:[^"\\]|\\.)*")+)\s*\)/g) {
		my ($name, $strs) = ($1, $2);
		my $d = join '', $strs =~ /"((?:[^"\\]|\\.)*)"/g;
		$param{$name}{desc} = $d if $param{$name};
	}
}
for my $p (@params) {
	problem("$param{$p}{file}: module parameter $p has no MODULE_PARM_DESC") unless defined $param{$p}{desc};
}
problem("$top/src: no module parameters found") unless @params;

# everything the page must name
my @names = (@ioctl_order, (map { "struct $_" } @struct_order),
	     (map { my $s = $_; map { $_->{name} } @{$struct{$s}{members}} } @struct_order),
	     @const_order, @params, (map { $_->[0] } @errnos), 'counters', 'buffers');

# ------------------------------------------------------------ --check
sub page_text {			# roff -> words, good enough to look names up
	my ($t) = @_;
	$t =~ s/\\f[BIRP]//g;
	$t =~ s/\\-/-/g;
	$t =~ s/\\\(dq/"/g;
	$t =~ s/\\\(aq/'/g;
	$t =~ s/\\e/\\/g;
	$t =~ s/\\&//g;
	$t =~ s/\\\(bu//g;
	$t =~ s/^\.\w+\s?//mg;
	$t =~ s/"//g;
	return $t;
}
sub missing {
	my ($t) = @_;
	return grep { $t !~ /(?<![\w])\Q$_\E(?![\w])/ } @names;
}
if (defined $check) {
	my $p = $check =~ /\.gz$/ ? `gzip -dc '$check'` : slurp($check);
	die "gen-manpage: cannot read $check\n" unless defined $p && length $p;
	my @m = missing(page_text($p));
	push @errors, map { "$check: does not name $_ (from the sources in $top)" } @m;
	if (@errors) { print STDERR "gen-manpage: $_\n" for @errors; exit 1; }
	printf "gen-manpage: %s names all %d ioctls, structs, members, flags, parameters and errnos\n",
		$check, scalar @names;
	exit 0;
}
if (@errors) { print STDERR "gen-manpage: $_\n" for @errors; exit 1; }

# ------------------------------------------------------------ roff output
sub esc_code { my ($s) = @_; $s =~ s/-/\\-/g; $s =~ s/"/\\(dq/g; return $s; }
# inline markup of kernel-doc and markdown text -> roff
sub inline {
	my ($s) = @_;
	$s =~ s/\\/\\e/g;
	$s =~ s{``([^`]+)``|`([^`]+)`|\*\*([^*]+)\*\*|&struct\s+(\w+)|&([A-Za-z_]\w*(?:\.\w+)*)|%([A-Za-z_]\w*)|\@(\w+)|(?<![\w-])-(E[A-Z][A-Z0-9]+)\b|\b([A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9](?:_\*)?)(?![\w])}{
		defined $1 ? '\fB' . esc_code($1) . '\fR' :
		defined $2 ? '\fB' . esc_code($2) . '\fR' :
		defined $3 ? '\fB' . esc_code($3) . '\fR' :
		defined $4 ? '\fBstruct ' . $4 . '\fR' :
		defined $5 ? '\fB' . $5 . '\fR' :
		defined $6 ? '\fB' . $6 . '\fR' :
		defined $7 ? '\fI' . $7 . '\fR' :
		defined $8 ? '\fB\-' . $8 . '\fR' :
		'\fB' . $9 . '\fR'
	}ge;
	$s =~ s/^([.'])/\\&$1/;
	return $s;
}
# paragraphs and "- " bullets (kernel-doc or markdown, nested by indent)
sub blocks {
	my (@l) = @_;
	my (@o, $para, $kind, $depth);
	$depth = 0;
	my $flush = sub {
		return unless defined $para;
		push @o, inline($para);
		$para = undef;
	};
	for my $l (@l) {
		if ($l =~ /^\s*$/) { $flush->(); $kind = undef; next; }
		if ($l =~ /^(\s*)[-*]\s+(.*)$/) {
			my $d = int(length($1) / 2);
			$flush->();
			push @o, '.RS' while $depth < $d && $depth++ >= 0;
			push @o, '.RE' while $depth > $d && $depth-- >= 0;
			push @o, '.IP \(bu 2';
			$para = $2;
			$kind = 'item';
			next;
		}
		if (!defined $kind) {
			push @o, '.RE' while $depth > 0 && $depth--;
			push @o, '.PP';
			$para = $l =~ s/^\s+//r;
			$kind = 'para';
			next;
		}
		$para .= ' ' . ($l =~ s/^\s+//r);
	}
	$flush->();
	push @o, '.RE' while $depth-- > 0;
	return @o;
}
sub md_lines { my ($t) = @_; my @l = split /\n/, $t; shift @l while @l && $l[0] eq ''; return @l; }
sub const_value {		# "(1u << 2)" -> "0x4"; leave anything else alone
	my ($v) = @_;
	my $e = $v;
	for my $n (keys %const) { $e =~ s/\b\Q$n\E\b/$const{$n}{value}/g; }
	for (1 .. 3) { for my $n (keys %const) { $e =~ s/\b\Q$n\E\b/$const{$n}{value}/g; } }
	$e =~ s/\b(\d+)[uUlL]+\b/$1/g;
	if ($e =~ m{^[\d\s()+\-*/<>|&x]+$}) {
		my $r = eval $e;	## no critic: digits and operators only
		return $v =~ /<</ || $v =~ /\|/ ? sprintf('0x%x', $r) : "$r" if defined $r;
	}
	return $v;
}

$version //= do {
	my ($v) = slurp("$top/dkms.conf") =~ /^PACKAGE_VERSION="?([^"\n]*)"?/m;
	$v // 'unknown';
};
my $date = strftime('%Y-%m-%d', gmtime($ENV{SOURCE_DATE_EPOCH} // time));
my @r;
push @r, '.\" SPDX-License-Identifier: GPL-2.0',
	'.\" Generated by scripts/gen-manpage.pl from uapi/drm/xen_zcopy_drm.h,',
	'.\" docs/design.md and src/*.c: edit those, not this file.',
	".TH XEN_DRM_ZCOPY 4 $date \"xen-zcopy $version\" \"Linux Programmer's Manual\"",
	'.SH NAME',
	'xen_drm_zcopy \- Xen zero-copy helper DRM driver',
	'.SH SYNOPSIS',
	'.nf',
	'.B #include <xen_zcopy_drm.h>',
	'.PP',
	'.BI "cc " prog.c " $(pkg\-config \-\-cflags \-\-libs xen\-zcopy)"',
	'.PP',
	'.BI "modprobe xen_drm_zcopy [" parameter = value " ...]"',
	'.fi',
	'.SH DESCRIPTION';
push @r, blocks(@{$doc{$doc_order[0]}});
push @r, '.PP',
	'The device is a DRM render node (\fB/dev/dri/renderD\fR\fIN\fR, and \fB/dev/dri/card\fR\fIN\fR);',
	'find it with \fBdrmOpen("' . ($const{XENDRM_ZCOPY_DRIVER_NAME} ? $const{XENDRM_ZCOPY_DRIVER_NAME}{value} =~ s/"//gr : 'xen_drm_zcopy') . '", NULL)\fR',
	'or by comparing the name that \fBdrmGetVersion\fR(3) reports.',
	'Every ioctl takes a pointer to its argument structure and returns 0, or \-1 with',
	'.I errno',
	'set (see \fBERRORS\fR).';

my %dirtext = (WR => 'read and written', W => 'read', R => 'written', '' => 'none');
my %doc_ioctl;			# ioctl -> text of its line in "DOC: ioctls"
for my $t (@doc_order) {
	for (@{$doc{$t}}) { $doc_ioctl{$1} = $2 if /^(DRM_IOCTL_\w+)\s+-\s+(.*)$/; }
}
sub struct_body {
	my ($s) = @_;
	my @o;
	push @o, blocks(@{$struct{$s}{long}}) if @{$struct{$s}{long}};
	push @o, '.PP', 'Members:';
	my @m = @{$struct{$s}{members}};
	for my $i (0 .. $#m) {
		my $m = $m[$i];
		my $u = '';
		if ($m->{union}) {
			# the other members of the same union: the run of union
			# members around this one
			my ($a, $b) = ($i, $i);
			$a-- while $a > 0 && $m[$a - 1]{union};
			$b++ while $b < $#m && $m[$b + 1]{union};
			my @w = map { $m[$_]{name} } grep { $_ != $i } $a .. $b;
			$u = '; in a union with ' . join(', ', @w) if @w;
		}
		push @o, '.TP', '.BR "' . esc_code($m->{name}) . '" " (' . esc_code($m->{type}) . "$u)\"";
		# ".TP" takes the next line as the tag and what follows as the
		# body: a ".PP" at the start of the body would end the list
		my @b = blocks(@{$m->{doc}});
		shift @b if @b && $b[0] eq '.PP';
		push @o, @b;
	}
	return @o;
}
push @r, '.SH IOCTLS';
my @order = ((grep { exists $ioctl{$_} } map { /^(DRM_IOCTL_\w+)/ ? $1 : () }
	      map { @{$doc{$_}} } @doc_order));
my %in = map { $_ => 1 } @order;
push @order, grep { !$in{$_} } @ioctl_order;
my %done;
for my $io (grep { !$done{$_}++ } @order) {
	my $i = $ioctl{$io};
	my $s = $i->{struct};
	push @r, ".SS $io", '.nf',
		'.BI "int ioctl(int " fd ", ' . $io . ', struct ' . $s . ' *" arg );',
		'.fi', '.PP';
	my $num = $cmd{$i->{cmd}};
	my $line = "Command \\fBDRM_COMMAND_BASE\\fR + $num (\\fB$i->{cmd}\\fR), \\fBDRM_IO$i->{dir}\\fR: the argument is $dirtext{$i->{dir}} by the kernel.";
	$line .= ' ' . inline(ucfirst($doc_ioctl{$io} =~ s/^.*?-\s*//r =~ s/^&struct \w+\s*//r)) . '.'
		if $doc_ioctl{$io} && $doc_ioctl{$io} =~ /legacy/;
	push @r, $line;
	if ($s && $struct{$s}) {
		push @r, '.PP', inline(ucfirst($struct{$s}{short})) . '.';
		push @r, struct_body($s);
	}
}
if (@extra_structs) {
	push @r, '.SH OTHER STRUCTURES';
	for my $s (@extra_structs) {
		push @r, ".SS struct $s", inline(ucfirst($struct{$s}{short})) . '.';
		push @r, struct_body($s);
	}
}
push @r, '.SH CONSTANTS AND FLAGS',
	'Values in parentheses; a mask names every flag of its group the driver knows.';
for my $c (@const_order) {
	my $k = $const{$c};
	if ($k->{mask}) {
		push @r, '.TP', ".B $c", 'The mask ' . join(' | ', map { "\\fB$_\\fR" } @{$k->{mask}}) . '.';
	} else {
		push @r, '.TP', ".BR $c \" (" . esc_code(const_value($k->{value})) . ')"';
		my @b = blocks(@{$k->{doc}});
		shift @b if $b[0] eq '.PP';
		push @r, @b;
	}
}
for my $t (@doc_order[1 .. $#doc_order]) {
	next if $t eq 'ioctls';
	push @r, '.SH ' . uc($t);
	push @r, blocks(@{$doc{$t}});
}
push @r, '.SH ERRORS',
	'Besides the generic errors of \fBioctl\fR(2) and of the DRM core, the ioctls fail with:';
for my $e (@errnos) {
	push @r, '.TP', ".B $e->[0]", inline($e->[1]);
}
push @r, '.SH MODULE PARAMETERS',
	'Set them on the \fBmodprobe\fR(8) command line or in a file in \fB/etc/modprobe.d/\fR',
	'(\fBmodprobe.d\fR(5)), e.g. \fBoptions xen_drm_zcopy allow_gid=\fR\fIgid\fR;',
	'the writable ones can also be changed at run time in',
	'\fB/sys/module/xen_drm_zcopy/parameters/\fR\fIname\fR.';
for my $p (@params) {
	my $k = $param{$p};
	my $rw = $k->{perm} =~ /^0?[0-7]*[2367][0-7]{2}$/ ? 'writable at run time' : 'read-only at run time';
	push @r, '.TP', '.BR ' . esc_code($p) . " \" ($k->{type}, $rw)\"", inline($k->{desc}) . '.';
}
push @r, '.SH DEBUGFS';
push @r, blocks(md_lines($section{$debugfs_title}));
if (@note_titles) {
	push @r, '.SH NOTES';
	for my $t (@note_titles) {
		push @r, '.SS ' . inline($t), blocks(md_lines($section{$t}));
	}
}
push @r, '.SH FILES',
	'.TP', '.BI /dev/dri/renderD N', 'The render node (and \fB/dev/dri/card\fR\fIN\fR) of the driver.',
	'.TP', '.B /usr/include/libdrm/xen_zcopy_drm.h', 'The UAPI header (package \fBxen\-zcopy\-dev\fR), next to libdrm\(aqs \fBdrm.h\fR, which it includes.',
	'.TP', '.B /usr/share/pkgconfig/xen\-zcopy.pc', 'Compiler flags for the header: \fBpkg\-config \-\-cflags xen\-zcopy\fR.',
	'.TP', '.B /lib/udev/rules.d/70\-xen\-zcopy.rules',
	'Makes the device nodes \fBroot:root 0600\fR: every ioctl needs \fBCAP_SYS_ADMIN\fR unless',
	'\fBallow_gid\fR names a group. Copy it to \fB/etc/udev/rules.d/\fR to change group and mode.',
	'.TP', '.B /usr/share/doc/xen\-zcopy\-dkms/examples/xen\-zcopy.conf',
	'A \fBmodprobe.d\fR(5) example with every module parameter.',
	'.TP', '.B /usr/src/xen\-zcopy\-' . esc_code($version) . '/',
	'The module source, built by \fBdkms\fR(8) for every installed kernel.',
	'.SH SEE ALSO',
	'.BR drm (7),',
	'.BR drm\-memory (7),',
	'.BR dkms (8),',
	'.BR modprobe.d (5),',
	'.BR udev (7);',
	'\fB/usr/share/doc/xen\-zcopy\-dkms/\fR (README, design notes).';

my $page = join("\n", @r) . "\n";

sub write_file {
	my ($f, $text) = @_;
	open(my $fh, '>', "$f.tmp") or die "gen-manpage: $f.tmp: $!\n";
	print $fh $text;
	close($fh) or die "gen-manpage: $f.tmp: $!\n";
	rename("$f.tmp", $f) or die "gen-manpage: $f: $!\n";
}
if (defined $modprobe) {
	my @c = ('# Example options for the xen_drm_zcopy module (see xen_drm_zcopy(4)).',
		 '# Copy to /etc/modprobe.d/xen-zcopy.conf, uncomment and edit; a change',
		 '# applies at the next load of the module (rmmod, modprobe), the',
		 '# writable parameters also at once through',
		 '# /sys/module/xen_drm_zcopy/parameters/<name>.',
		 '#',
		 '# allow_gid: the udev rule 70-xen-zcopy.rules makes the device nodes',
		 '# root-only; copy it to /etc/udev/rules.d/ and set GROUP to the same group',
		 '# and MODE="0660" too.',
		 '# Generated by scripts/gen-manpage.pl from the MODULE_PARM_DESC lines.');
	for my $p (@params) {
		my $d = $param{$p}{desc};
		my ($def) = $d =~ /\(default\s+(-?\w+)/;
		push @c, '', "# $p ($param{$p}{type}): $d", "#options xen_drm_zcopy $p=" . ($def // "<$param{$p}{type}>");
	}
	write_file($modprobe, join("\n", @c) . "\n");
}
my @m = missing(page_text($page));
if (@m) {
	print STDERR "gen-manpage: the page does not name $_ (generator bug)\n" for @m;
	exit 1;
}
if (defined $out) {
	write_file($out, $page);
} elsif (!defined $modprobe) {
	print $page;
}
