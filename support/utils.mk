# Shared helpers for the component makefiles.

# A Kconfig string value as .config writes it ("text", with \" and \\ for a
# quote and a backslash): the text. Blank runs fold to one blank.
qstrip-bs := _-_BACKSLASH_-_
qstrip-dq := _-_QUOTE_-_
qstrip = $(strip $(subst $(qstrip-bs),\,$(subst $(qstrip-dq),",$(subst ",,$(subst \",$(qstrip-dq),$(subst \\,$(qstrip-bs),$(1)))))))
# (the quote above is for editors: ")

comma := ,
# upper case, for Kconfig symbols made of names (ext4 -> EXT4)
uc = $(subst a,A,$(subst b,B,$(subst c,C,$(subst d,D,$(subst e,E,$(subst f,F,$(subst g,G,$(subst h,H,$(subst i,I,$(subst j,J,$(subst k,K,$(subst l,L,$(subst m,M,$(subst n,N,$(subst o,O,$(subst p,P,$(subst q,Q,$(subst r,R,$(subst s,S,$(subst t,T,$(subst u,U,$(subst v,V,$(subst w,W,$(subst x,X,$(subst y,Y,$(subst z,Z,$(subst -,_,$(1))))))))))))))))))))))))))))

# Short progress line, as Buildroot prints them.
MESSAGE = @printf '>>> %s\n' '$(1)'

# --- Command tracking, as Kbuild's if_changed (scripts/Kbuild.include) ---
#
#   TARGET: PREREQUISITES FORCE
#   	$(call if_changed,NAME)
#
# runs cmd_NAME, announced as '>>> $(quiet_cmd_NAME)' (the command itself
# with V=1), when TARGET is missing, a prerequisite is newer, or the text of
# cmd_NAME differs from the last successful run's. So every value a command
# reads from the configuration is an input just by being in its command
# line. The text is kept in .TARGET.cmd beside TARGET, which make reads back
# (see the end of the top Makefile). Where a command runs a build that
# tracks its own commands (the kernel's Kbuild), track_NAME names what is
# compared instead: the inputs that build cannot see. An empty
# quiet_cmd_NAME prints nothing (the command announces itself).
squote := '
pound := \#
space := $(empty) $(empty)
space_escape := _-_SPACE_-_
escsq = $(subst $(squote),'\$(squote)',$(1))
cmd-file = $(dir $@).$(notdir $@).cmd
tracked = $(if $(filter undefined,$(origin track_$(1))),$(cmd_$(1)),track: $(track_$(1)))
make-cmd = $(call escsq,$(subst $(pound),$$(pound),$(subst $$,$$$$,$(call tracked,$(1)))))
cmd-check = $(filter-out $(subst $(space),$(space_escape),$(strip $(savedcmd_$@))),$(subst $(space),$(space_escape),$(strip $(call tracked,$(1)))))
newer-prereqs = $(filter-out FORCE,$?)
if-changed-cond = $(newer-prereqs)$(cmd-check)$(if $(wildcard $@),,missing)
# V=2, as Kbuild's: why the command runs (a missing target, the newer
# prerequisites, or a changed command line)
why = $(if $(wildcard $@),$(if $(newer-prereqs),newer: $(notdir $(newer-prereqs)),command changed),target missing)
echo-why = $(if $(filter 2,$(V)),printf '    (%s: %s)\n' '$(call escsq,$(notdir $@))' '$(call escsq,$(why))',:)
echo-cmd = $(if $(Q),$(if $(quiet_cmd_$(1)),printf '>>> %s\n' '$(call escsq,$(quiet_cmd_$(1)))',:),printf '%s\n' '$(call escsq,$(cmd_$(1)))'); $(echo-why)
# The command is joined to the line that records it with &&: set -e does
# not stop at a failure inside an a && b && c list (only at its last
# command), so a '; printf' here once recorded a failed kernel build as done.
if_changed = $(if $(if-changed-cond),@set -e; $(echo-cmd); mkdir -p $(dir $@); $(cmd_$(1)) && \
	printf '%s\n' 'savedcmd_$@ := $(make-cmd)' >$(cmd-file),@:)

# $(call write-then-rename,COMMAND): COMMAND writes $@.tmp; $@ is replaced
# only when it succeeded, and a failed run leaves no $@.tmp.
write-then-rename = { $(1); } && mv -f $@.tmp $@ || { rm -f $@.tmp; exit 1; }

.PHONY: FORCE
FORCE:
