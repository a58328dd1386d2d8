/** The list of every module; the registry indexes it by name. */
import type { AnyModule } from './types.js';
import { commandModule, shellModule, rawModule } from './command.js';
import { assertModule, failModule } from './assert.js';
import debug from './debug.js';
import setFact from './set-fact.js';
import meta from './meta.js';
import ping from './ping.js';
import waitFor from './wait-for.js';
import includeVars from './include-vars.js';
import setup from './setup.js';
import file from './file.js';
import copy from './copy.js';
import template from './template.js';
import lineinfile from './lineinfile.js';
import blockinfile from './blockinfile.js';
import stat from './stat.js';
import apt from './apt.js';
import aptRepository from './apt-repository.js';
import deb822Repository from './deb822-repository.js';
import debconf from './debconf.js';
import service from './service.js';
import systemdService from './systemd-service.js';
import systemdUnit from './systemd-unit.js';
import user from './user.js';
import group from './group.js';
import authorizedKey from './authorized-key.js';
import hostname from './hostname.js';
import sfdisk from './sfdisk.js';
import filesystem from './filesystem.js';
import mount from './mount.js';
import grub from './grub.js';
import iptables from './iptables.js';
import iptablesState from './iptables-save.js';
import sysctl from './sysctl.js';
import unarchive from './unarchive.js';
import getUrl from './get-url.js';
import reboot from './reboot.js';

export const ALL_MODULES = [
  commandModule, shellModule, rawModule, assertModule, failModule, debug, setFact, meta, ping, waitFor, includeVars, setup,
  file, copy, template, lineinfile, blockinfile, stat,
  apt, aptRepository, deb822Repository, debconf, service, systemdService, systemdUnit, user, group, authorizedKey, hostname,
  sfdisk, filesystem, mount, grub, iptables, iptablesState, sysctl, unarchive, getUrl, reboot,
] as unknown as readonly AnyModule[];
