PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE strings(
  id INTEGER PRIMARY KEY,
  value TEXT NOT NULL UNIQUE
);
INSERT INTO strings VALUES(1,'/usr/sbin/auditctl');
INSERT INTO strings VALUES(2,'auditctl');
INSERT INTO strings VALUES(3,'/work/main');
INSERT INTO strings VALUES(4,'/usr/bin/true');
INSERT INTO strings VALUES(5,'true');
INSERT INTO strings VALUES(6,'/usr/bin/echo');
INSERT INTO strings VALUES(7,'echo');
INSERT INTO strings VALUES(8,'/usr/bin/python3.11');
INSERT INTO strings VALUES(9,'python3');
INSERT INTO strings VALUES(10,'/usr/bin/bash');
INSERT INTO strings VALUES(11,'bash');
INSERT INTO strings VALUES(12,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-noexec.sh');
INSERT INTO strings VALUES(13,'/usr/bin/chmod');
INSERT INTO strings VALUES(14,'chmod');
INSERT INTO strings VALUES(15,'/usr/bin/rm');
INSERT INTO strings VALUES(16,'rm');
INSERT INTO strings VALUES(17,'/usr/bin/dash');
INSERT INTO strings VALUES(18,'sh');
INSERT INTO strings VALUES(19,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-file.txt');
INSERT INTO strings VALUES(20,'/usr/bin/mv');
INSERT INTO strings VALUES(21,'mv');
INSERT INTO strings VALUES(22,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt');
INSERT INTO strings VALUES(23,'/usr/bin/touch');
INSERT INTO strings VALUES(24,'touch');
INSERT INTO strings VALUES(25,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-ünïcödé-файл.txt');
INSERT INTO strings VALUES(26,'/usr/bin/chown');
INSERT INTO strings VALUES(27,'chown');
INSERT INTO strings VALUES(28,'/usr/bin/truncate');
INSERT INTO strings VALUES(29,'truncate');
INSERT INTO strings VALUES(30,'/usr/bin/ln');
INSERT INTO strings VALUES(31,'ln');
INSERT INTO strings VALUES(32,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-hardlink');
INSERT INTO strings VALUES(33,'/usr/bin/basename');
INSERT INTO strings VALUES(34,'basename');
INSERT INTO strings VALUES(35,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-symlink');
INSERT INTO strings VALUES(36,'recorder-golden space renamed.txt');
INSERT INTO strings VALUES(37,'/usr/bin/mkdir');
INSERT INTO strings VALUES(38,'mkdir');
INSERT INTO strings VALUES(39,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-dir');
INSERT INTO strings VALUES(40,'/usr/bin/rmdir');
INSERT INTO strings VALUES(41,'rmdir');
INSERT INTO strings VALUES(42,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-legacy-creat.txt');
INSERT INTO strings VALUES(43,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-legacy-openat2.txt');
INSERT INTO strings VALUES(44,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-legacy-renamed.txt');
INSERT INTO strings VALUES(45,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-legacy-openat2-renamed.txt');
INSERT INTO strings VALUES(46,'/tmp/recorder-capture-work.YTd2Bn/');
INSERT INTO strings VALUES(47,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-legacy-hardlink');
INSERT INTO strings VALUES(48,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-legacy-symlink');
INSERT INTO strings VALUES(49,'recorder-golden-legacy-renamed.txt');
INSERT INTO strings VALUES(50,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden-legacy-dir');
INSERT INTO strings VALUES(51,'tcp');
INSERT INTO strings VALUES(52,'ipv4');
INSERT INTO strings VALUES(53,'127.0.0.1');
INSERT INTO strings VALUES(54,'ipv6');
INSERT INTO strings VALUES(55,'::1');
INSERT INTO strings VALUES(56,'/tmp/recorder-capture-work.YTd2Bn/recorder-golden.sock');
INSERT INTO strings VALUES(57,'/usr/bin/su');
INSERT INTO strings VALUES(58,'su');
INSERT INTO strings VALUES(59,'USER_AUTH');
INSERT INTO strings VALUES(60,'0');
INSERT INTO strings VALUES(61,'nobody');
INSERT INTO strings VALUES(62,'success');
INSERT INTO strings VALUES(63,'PAM:authentication grantors=pam_rootok');
INSERT INTO strings VALUES(64,'USER_ACCT');
INSERT INTO strings VALUES(65,'PAM:accounting grantors=pam_permit');
INSERT INTO strings VALUES(66,'CRED_ACQ');
INSERT INTO strings VALUES(67,'PAM:setcred grantors=pam_rootok');
INSERT INTO strings VALUES(68,'USER_START');
INSERT INTO strings VALUES(69,'PAM:session_open grantors=pam_env,pam_env,pam_mail,pam_limits,pam_permit,pam_unix');
INSERT INTO strings VALUES(70,'SYSCALL');
INSERT INTO strings VALUES(71,'65534');
INSERT INTO strings VALUES(72,'setgid(65534)');
INSERT INTO strings VALUES(73,'setuid(65534)');
INSERT INTO strings VALUES(74,'USER_END');
INSERT INTO strings VALUES(75,'PAM:session_close grantors=pam_env,pam_env,pam_mail,pam_limits,pam_permit,pam_unix');
INSERT INTO strings VALUES(76,'CRED_DISP');
INSERT INTO strings VALUES(77,'root');
INSERT INTO strings VALUES(78,'setgid(0)');
INSERT INTO strings VALUES(79,'setuid(0)');
INSERT INTO strings VALUES(80,'/usr/sbin/runuser');
INSERT INTO strings VALUES(81,'runuser');
INSERT INTO strings VALUES(82,'setregid(65534,-1)');
INSERT INTO strings VALUES(83,'setreuid(65534,-1)');
INSERT INTO strings VALUES(84,'setreuid(0,-1)');
INSERT INTO strings VALUES(85,'setregid(0,-1)');
INSERT INTO strings VALUES(86,'PAM:session_open grantors=pam_keyinit,pam_limits,pam_unix');
INSERT INTO strings VALUES(87,'setregid(-1,65534)');
INSERT INTO strings VALUES(88,'setresuid(-1,65534,0)');
INSERT INTO strings VALUES(89,'setreuid(-1,0)');
INSERT INTO strings VALUES(90,'setregid(-1,0)');
INSERT INTO strings VALUES(91,'PAM:session_close grantors=pam_keyinit,pam_limits,pam_unix');
INSERT INTO strings VALUES(92,'setuid exec /usr/bin/su');
INSERT INTO strings VALUES(93,'failed');
INSERT INTO strings VALUES(94,'PAM:authentication');
INSERT INTO strings VALUES(95,'setregid(0,0)');
INSERT INTO strings VALUES(96,'setresgid(65534,65534,65534)');
INSERT INTO strings VALUES(97,'setreuid(0,0)');
INSERT INTO strings VALUES(98,'setresuid(65534,65534,65534)');
INSERT INTO strings VALUES(99,'/usr/bin/sleep');
INSERT INTO strings VALUES(100,'sleep');
INSERT INTO strings VALUES(101,'/usr/bin/dig');
INSERT INTO strings VALUES(102,'dig');
INSERT INTO strings VALUES(103,'udp');
INSERT INTO strings VALUES(104,'8.8.8.8');
CREATE TABLE commands(
  id INTEGER PRIMARY KEY,
  argv TEXT NOT NULL UNIQUE,
  cmdline TEXT NOT NULL
);
INSERT INTO commands VALUES(1,'["auditctl","-a","always,exit","-F","arch=b32","-S","execve,execveat","-F","sessionid=16","-k","recorder-capture"]','auditctl -a always,exit -F arch=b32 -S execve,execveat -F sessionid=16 -k recorder-capture');
INSERT INTO commands VALUES(2,'["auditctl","-l"]','auditctl -l');
INSERT INTO commands VALUES(3,'["/bin/true","recorder-golden-step","exec_special_args"]','/bin/true recorder-golden-step exec_special_args');
INSERT INTO commands VALUES(4,'["/bin/echo","recorder-golden-marker-special","a b","q\"uote","it''s","héllo","ünïcode","tab\there","new\nline","$HOME","back\\slash","--flag=x","","日本語"]',replace('/bin/echo recorder-golden-marker-special ''a b'' ''q"uote'' ''it''\''''s'' ''héllo'' ''ünïcode'' ''tab	here'' ''new\nline'' ''$HOME'' ''back\slash'' --flag=x '''' ''日本語''','\n',char(10)));
INSERT INTO commands VALUES(5,'["/bin/true","recorder-golden-step","exec_long_arg"]','/bin/true recorder-golden-step exec_long_arg');
INSERT INTO commands VALUES(6,'["/bin/true","recorder-golden-step","exec_many_args"]','/bin/true recorder-golden-step exec_many_args');
INSERT INTO commands VALUES(7,'["/bin/true","recorder-golden-step","exec_fail_enoent"]','/bin/true recorder-golden-step exec_fail_enoent');
INSERT INTO commands VALUES(8,'["/usr/bin/python3","/tmp/recorder-capture.ALaJej/workload.py","exec-fail","/tmp/recorder-capture.ALaJej/RAW/results.json","exec_fail_enoent","/nonexistent/recorder-golden-missing-binary","recorder-golden-marker-enoent"]','/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py exec-fail /tmp/recorder-capture.ALaJej/RAW/results.json exec_fail_enoent /nonexistent/recorder-golden-missing-binary recorder-golden-marker-enoent');
INSERT INTO commands VALUES(9,'["/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py exec-fail /tmp/recorder-capture.ALaJej/RAW/results.json exec_fail_enoe"]','''/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py exec-fail /tmp/recorder-capture.ALaJej/RAW/results.json exec_fail_enoe''');
INSERT INTO commands VALUES(10,'["/bin/true","recorder-golden-step","exec_fail_eacces"]','/bin/true recorder-golden-step exec_fail_eacces');
INSERT INTO commands VALUES(11,'["chmod","0644","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-noexec.sh"]','chmod 0644 /tmp/recorder-capture-work.YTd2Bn/recorder-golden-noexec.sh');
INSERT INTO commands VALUES(12,'["/usr/bin/python3","/tmp/recorder-capture.ALaJej/workload.py","exec-fail","/tmp/recorder-capture.ALaJej/RAW/results.json","exec_fail_eacces","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-noexec.sh","recorder-golden-marker-eacces"]','/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py exec-fail /tmp/recorder-capture.ALaJej/RAW/results.json exec_fail_eacces /tmp/recorder-capture-work.YTd2Bn/recorder-golden-noexec.sh recorder-golden-marker-eacces');
INSERT INTO commands VALUES(13,'["/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py exec-fail /tmp/recorder-capture.ALaJej/RAW/results.json exec_fail_eacc"]','''/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py exec-fail /tmp/recorder-capture.ALaJej/RAW/results.json exec_fail_eacc''');
INSERT INTO commands VALUES(14,'["rm","-f","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-noexec.sh"]','rm -f /tmp/recorder-capture-work.YTd2Bn/recorder-golden-noexec.sh');
INSERT INTO commands VALUES(15,'["/bin/true","recorder-golden-step","execveat"]','/bin/true recorder-golden-step execveat');
INSERT INTO commands VALUES(16,'["/usr/bin/python3","/tmp/recorder-capture.ALaJej/workload.py","execveat","/tmp/recorder-capture.ALaJej/RAW/results.json","/bin/true","recorder-golden-marker-execveat"]','/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py execveat /tmp/recorder-capture.ALaJej/RAW/results.json /bin/true recorder-golden-marker-execveat');
INSERT INTO commands VALUES(17,'["/bin/true","recorder-golden-marker-execveat"]','/bin/true recorder-golden-marker-execveat');
INSERT INTO commands VALUES(18,'["/bin/true","recorder-golden-step","exit_codes"]','/bin/true recorder-golden-step exit_codes');
INSERT INTO commands VALUES(19,'["sh","-c","exit 0","recorder-golden-exit-0"]','sh -c ''exit 0'' recorder-golden-exit-0');
INSERT INTO commands VALUES(20,'["sh","-c","exit 3","recorder-golden-exit-3"]','sh -c ''exit 3'' recorder-golden-exit-3');
INSERT INTO commands VALUES(21,'["sh","-c","ulimit -c 0; kill -SEGV $$","recorder-golden-exit-segv"]','sh -c ''ulimit -c 0; kill -SEGV $$'' recorder-golden-exit-segv');
INSERT INTO commands VALUES(22,'["/usr/bin/python3","-","/tmp/recorder-capture.ALaJej/RAW/results.json","0","3","139"]','/usr/bin/python3 - /tmp/recorder-capture.ALaJej/RAW/results.json 0 3 139');
INSERT INTO commands VALUES(23,'["/bin/true","recorder-golden-step","files"]','/bin/true recorder-golden-step files');
INSERT INTO commands VALUES(24,'["mv","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-file.txt","/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt"]','mv /tmp/recorder-capture-work.YTd2Bn/recorder-golden-file.txt ''/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt''');
INSERT INTO commands VALUES(25,'["touch","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-ünïcödé-файл.txt"]','touch ''/tmp/recorder-capture-work.YTd2Bn/recorder-golden-ünïcödé-файл.txt''');
INSERT INTO commands VALUES(26,'["chmod","0600","/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt"]','chmod 0600 ''/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt''');
INSERT INTO commands VALUES(27,'["chown","nobody:nogroup","/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt"]','chown nobody:nogroup ''/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt''');
INSERT INTO commands VALUES(28,'["truncate","-s","4","/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt"]','truncate -s 4 ''/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt''');
INSERT INTO commands VALUES(29,'["ln","/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-hardlink"]','ln ''/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt'' /tmp/recorder-capture-work.YTd2Bn/recorder-golden-hardlink');
INSERT INTO commands VALUES(30,'["basename","/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt"]','basename ''/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt''');
INSERT INTO commands VALUES(31,'["ln","-s","recorder-golden space renamed.txt","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-symlink"]','ln -s ''recorder-golden space renamed.txt'' /tmp/recorder-capture-work.YTd2Bn/recorder-golden-symlink');
INSERT INTO commands VALUES(32,'["mkdir","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-dir"]','mkdir /tmp/recorder-capture-work.YTd2Bn/recorder-golden-dir');
INSERT INTO commands VALUES(33,'["rmdir","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-dir"]','rmdir /tmp/recorder-capture-work.YTd2Bn/recorder-golden-dir');
INSERT INTO commands VALUES(34,'["rm","-f","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-symlink","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-hardlink","/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt","/tmp/recorder-capture-work.YTd2Bn/recorder-golden-ünïcödé-файл.txt"]','rm -f /tmp/recorder-capture-work.YTd2Bn/recorder-golden-symlink /tmp/recorder-capture-work.YTd2Bn/recorder-golden-hardlink ''/tmp/recorder-capture-work.YTd2Bn/recorder-golden space renamed.txt'' ''/tmp/recorder-capture-work.YTd2Bn/recorder-golden-ünïcödé-файл.txt''');
INSERT INTO commands VALUES(35,'["/usr/bin/python3","-","/tmp/recorder-capture.ALaJej/RAW/results.json"]','/usr/bin/python3 - /tmp/recorder-capture.ALaJej/RAW/results.json');
INSERT INTO commands VALUES(36,'["/bin/true","recorder-golden-step","files_legacy"]','/bin/true recorder-golden-step files_legacy');
INSERT INTO commands VALUES(37,'["/usr/bin/python3","/tmp/recorder-capture.ALaJej/workload.py","files-legacy","/tmp/recorder-capture.ALaJej/RAW/results.json","/tmp/recorder-capture-work.YTd2Bn"]','/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py files-legacy /tmp/recorder-capture.ALaJej/RAW/results.json /tmp/recorder-capture-work.YTd2Bn');
INSERT INTO commands VALUES(38,'["/bin/true","recorder-golden-step","network"]','/bin/true recorder-golden-step network');
INSERT INTO commands VALUES(39,'["/usr/bin/python3","/tmp/recorder-capture.ALaJej/workload.py","net","/tmp/recorder-capture.ALaJej/RAW/results.json","/tmp/recorder-capture-work.YTd2Bn","34769","53747","57123","57290"]','/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py net /tmp/recorder-capture.ALaJej/RAW/results.json /tmp/recorder-capture-work.YTd2Bn 34769 53747 57123 57290');
INSERT INTO commands VALUES(40,'["/bin/true","recorder-golden-step","pam"]','/bin/true recorder-golden-step pam');
INSERT INTO commands VALUES(41,'["su","-s","/bin/sh","-c","/bin/true recorder-golden-su-nobody","nobody"]','su -s /bin/sh -c ''/bin/true recorder-golden-su-nobody'' nobody');
INSERT INTO commands VALUES(42,'["sh","-c","/bin/true recorder-golden-su-nobody"]','sh -c ''/bin/true recorder-golden-su-nobody''');
INSERT INTO commands VALUES(43,'["/bin/true","recorder-golden-su-nobody"]','/bin/true recorder-golden-su-nobody');
INSERT INTO commands VALUES(44,'["su","root","-c","/bin/true recorder-golden-su-root"]','su root -c ''/bin/true recorder-golden-su-root''');
INSERT INTO commands VALUES(45,'["bash","-c","/bin/true recorder-golden-su-root"]','bash -c ''/bin/true recorder-golden-su-root''');
INSERT INTO commands VALUES(46,'["/bin/true","recorder-golden-su-root"]','/bin/true recorder-golden-su-root');
INSERT INTO commands VALUES(47,'["runuser","-u","nobody","--","/bin/true","recorder-golden-runuser-nobody"]','runuser -u nobody -- /bin/true recorder-golden-runuser-nobody');
INSERT INTO commands VALUES(48,'["/bin/true","recorder-golden-runuser-nobody"]','/bin/true recorder-golden-runuser-nobody');
INSERT INTO commands VALUES(49,'["runuser","-u","nobody","--","su","root","-c","/bin/true recorder-golden-su-fail"]','runuser -u nobody -- su root -c ''/bin/true recorder-golden-su-fail''');
INSERT INTO commands VALUES(50,'["runuser -u nobody -- su root -c /bin/true recorder-golden-su-fail"]','''runuser -u nobody -- su root -c /bin/true recorder-golden-su-fail''');
INSERT INTO commands VALUES(51,'["su","root","-c","/bin/true recorder-golden-su-fail"]','su root -c ''/bin/true recorder-golden-su-fail''');
INSERT INTO commands VALUES(52,'["/usr/bin/python3","-","/tmp/recorder-capture.ALaJej/RAW/results.json","0","0","0","1"]','/usr/bin/python3 - /tmp/recorder-capture.ALaJej/RAW/results.json 0 0 0 1');
INSERT INTO commands VALUES(53,'["/bin/true","recorder-golden-step","setid"]','/bin/true recorder-golden-step setid');
INSERT INTO commands VALUES(54,'["/usr/bin/python3","/tmp/recorder-capture.ALaJej/workload.py","setid","/tmp/recorder-capture.ALaJej/RAW/results.json"]','/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py setid /tmp/recorder-capture.ALaJej/RAW/results.json');
INSERT INTO commands VALUES(55,'["/bin/true","recorder-golden-step","modules"]','/bin/true recorder-golden-step modules');
INSERT INTO commands VALUES(56,'["/usr/bin/python3","/tmp/recorder-capture.ALaJej/workload.py","modules","/tmp/recorder-capture.ALaJej/RAW/results.json","/tmp/recorder-capture-work.YTd2Bn"]','/usr/bin/python3 /tmp/recorder-capture.ALaJej/workload.py modules /tmp/recorder-capture.ALaJej/RAW/results.json /tmp/recorder-capture-work.YTd2Bn');
INSERT INTO commands VALUES(57,'["/usr/bin/python3","-","/tmp/recorder-capture.ALaJej/RAW/results.json","skipped modprobe: no dummy module under /lib/modules/6.18.44-fc-v782 (kernel built without CONFIG_MODULES: module syscalls fail with ENOSYS)"]','/usr/bin/python3 - /tmp/recorder-capture.ALaJej/RAW/results.json ''skipped modprobe: no dummy module under /lib/modules/6.18.44-fc-v782 (kernel built without CONFIG_MODULES: module syscalls fail with ENOSYS)''');
INSERT INTO commands VALUES(58,'["/bin/true","recorder-golden-step","done"]','/bin/true recorder-golden-step done');
INSERT INTO commands VALUES(59,'["sleep","1"]','sleep 1');
INSERT INTO commands VALUES(60,'["auditctl","-D","-k","recorder-capture"]','auditctl -D -k recorder-capture');
CREATE TABLE audit_events(
  time INTEGER NOT NULL,
  serial INTEGER NOT NULL,
  node_id INTEGER NOT NULL,
  process_id INTEGER,
  PRIMARY KEY(time, serial, node_id)
) WITHOUT ROWID;
INSERT INTO audit_events VALUES(1795629431583,4824,0,NULL);
INSERT INTO audit_events VALUES(1795629431603,4826,0,NULL);
INSERT INTO audit_events VALUES(1795629431627,4828,0,NULL);
INSERT INTO audit_events VALUES(1795629431635,4829,0,4);
INSERT INTO audit_events VALUES(1795629431687,4831,0,NULL);
INSERT INTO audit_events VALUES(1795629431707,4832,0,5);
INSERT INTO audit_events VALUES(1795629431723,4833,0,NULL);
INSERT INTO audit_events VALUES(1795629431731,4834,0,6);
INSERT INTO audit_events VALUES(1795629431739,4835,0,NULL);
INSERT INTO audit_events VALUES(1795629431747,4836,0,7);
INSERT INTO audit_events VALUES(1795629431759,4837,0,NULL);
INSERT INTO audit_events VALUES(1795629431771,4838,0,8);
INSERT INTO audit_events VALUES(1795629431779,4839,0,NULL);
INSERT INTO audit_events VALUES(1795629431791,4841,0,NULL);
INSERT INTO audit_events VALUES(1795629431799,4842,0,10);
INSERT INTO audit_events VALUES(1795629431807,4843,0,NULL);
INSERT INTO audit_events VALUES(1795629431827,4845,0,NULL);
INSERT INTO audit_events VALUES(1795629431835,4846,0,12);
INSERT INTO audit_events VALUES(1795629431843,4847,0,NULL);
INSERT INTO audit_events VALUES(1795629431859,4848,0,13);
INSERT INTO audit_events VALUES(1795629431999,4849,0,14);
INSERT INTO audit_events VALUES(1795629431999,4850,0,NULL);
INSERT INTO audit_events VALUES(1795629432055,4851,0,NULL);
INSERT INTO audit_events VALUES(1795629432063,4852,0,15);
INSERT INTO audit_events VALUES(1795629432079,4853,0,NULL);
INSERT INTO audit_events VALUES(1795629432079,4854,0,NULL);
INSERT INTO audit_events VALUES(1795629432087,4855,0,17);
INSERT INTO audit_events VALUES(1795629432095,4856,0,NULL);
INSERT INTO audit_events VALUES(1795629432095,4857,0,NULL);
INSERT INTO audit_events VALUES(1795629432103,4858,0,18);
INSERT INTO audit_events VALUES(1795629432259,4859,0,19);
INSERT INTO audit_events VALUES(1795629432287,4860,0,NULL);
INSERT INTO audit_events VALUES(1795629432339,4861,0,NULL);
INSERT INTO audit_events VALUES(1795629432355,4862,0,20);
INSERT INTO audit_events VALUES(1795629432359,4863,0,NULL);
INSERT INTO audit_events VALUES(1795629432359,4864,0,NULL);
INSERT INTO audit_events VALUES(1795629432371,4865,0,21);
INSERT INTO audit_events VALUES(1795629432375,4866,0,NULL);
INSERT INTO audit_events VALUES(1795629432387,4867,0,22);
INSERT INTO audit_events VALUES(1795629432531,4868,0,23);
INSERT INTO audit_events VALUES(1795629432539,4869,0,NULL);
INSERT INTO audit_events VALUES(1795629432595,4870,0,NULL);
INSERT INTO audit_events VALUES(1795629432607,4871,0,24);
INSERT INTO audit_events VALUES(1795629432615,4872,0,NULL);
INSERT INTO audit_events VALUES(1795629432635,4873,0,25);
INSERT INTO audit_events VALUES(1795629432643,4874,0,NULL);
INSERT INTO audit_events VALUES(1795629432651,4875,0,NULL);
INSERT INTO audit_events VALUES(1795629432667,4876,0,27);
INSERT INTO audit_events VALUES(1795629432675,4877,0,NULL);
INSERT INTO audit_events VALUES(1795629432683,4878,0,NULL);
INSERT INTO audit_events VALUES(1795629432695,4879,0,29);
INSERT INTO audit_events VALUES(1795629432711,4880,0,NULL);
INSERT INTO audit_events VALUES(1795629432711,4881,0,NULL);
INSERT INTO audit_events VALUES(1795629432727,4882,0,31);
INSERT INTO audit_events VALUES(1795629432871,4883,0,NULL);
INSERT INTO audit_events VALUES(1795629432883,4884,0,32);
INSERT INTO audit_events VALUES(1795629432891,4885,0,NULL);
INSERT INTO audit_events VALUES(1795629432891,4886,0,NULL);
INSERT INTO audit_events VALUES(1795629432895,4887,0,NULL);
INSERT INTO audit_events VALUES(1795629432899,4888,0,33);
INSERT INTO audit_events VALUES(1795629432907,4889,0,NULL);
INSERT INTO audit_events VALUES(1795629432907,4890,0,NULL);
INSERT INTO audit_events VALUES(1795629432919,4891,0,34);
INSERT INTO audit_events VALUES(1795629432927,4892,0,NULL);
INSERT INTO audit_events VALUES(1795629432927,4893,0,NULL);
INSERT INTO audit_events VALUES(1795629432943,4894,0,35);
INSERT INTO audit_events VALUES(1795629432959,4895,0,NULL);
INSERT INTO audit_events VALUES(1795629432959,4896,0,NULL);
INSERT INTO audit_events VALUES(1795629432971,4897,0,36);
INSERT INTO audit_events VALUES(1795629432979,4902,0,NULL);
INSERT INTO audit_events VALUES(1795629432979,4903,0,NULL);
INSERT INTO audit_events VALUES(1795629432987,4904,0,37);
INSERT INTO audit_events VALUES(1795629433003,4905,0,NULL);
INSERT INTO audit_events VALUES(1795629433003,4906,0,NULL);
INSERT INTO audit_events VALUES(1795629433003,4907,0,NULL);
INSERT INTO audit_events VALUES(1795629433011,4908,0,38);
INSERT INTO audit_events VALUES(1795629433019,4909,0,NULL);
INSERT INTO audit_events VALUES(1795629433019,4910,0,NULL);
INSERT INTO audit_events VALUES(1795629433039,4911,0,39);
INSERT INTO audit_events VALUES(1795629433055,4912,0,NULL);
INSERT INTO audit_events VALUES(1795629433063,4913,0,40);
INSERT INTO audit_events VALUES(1795629433067,4914,0,NULL);
INSERT INTO audit_events VALUES(1795629433067,4915,0,NULL);
INSERT INTO audit_events VALUES(1795629433079,4916,0,41);
INSERT INTO audit_events VALUES(1795629433091,4917,0,NULL);
INSERT INTO audit_events VALUES(1795629433091,4918,0,NULL);
INSERT INTO audit_events VALUES(1795629433103,4919,0,42);
INSERT INTO audit_events VALUES(1795629433107,4920,0,NULL);
INSERT INTO audit_events VALUES(1795629433115,4921,0,NULL);
INSERT INTO audit_events VALUES(1795629433123,4922,0,43);
INSERT INTO audit_events VALUES(1795629433127,4923,0,NULL);
INSERT INTO audit_events VALUES(1795629433135,4924,0,NULL);
INSERT INTO audit_events VALUES(1795629433135,4925,0,NULL);
INSERT INTO audit_events VALUES(1795629433135,4926,0,NULL);
INSERT INTO audit_events VALUES(1795629433135,4927,0,NULL);
INSERT INTO audit_events VALUES(1795629433143,4928,0,44);
INSERT INTO audit_events VALUES(1795629433267,4929,0,NULL);
INSERT INTO audit_events VALUES(1795629433271,4930,0,45);
INSERT INTO audit_events VALUES(1795629433279,4931,0,NULL);
INSERT INTO audit_events VALUES(1795629433291,4932,0,46);
INSERT INTO audit_events VALUES(1795629433467,4933,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4934,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4935,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4936,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4938,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4939,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4940,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4941,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4942,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4943,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4944,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4945,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4946,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4947,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4948,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4949,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4950,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4951,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4952,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4953,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4954,0,NULL);
INSERT INTO audit_events VALUES(1795629433467,4955,0,NULL);
INSERT INTO audit_events VALUES(1795629433479,4956,0,NULL);
INSERT INTO audit_events VALUES(1795629433483,4957,0,47);
INSERT INTO audit_events VALUES(1795629433491,4958,0,NULL);
INSERT INTO audit_events VALUES(1795629433495,4959,0,48);
INSERT INTO audit_events VALUES(1795629433619,4961,0,NULL);
INSERT INTO audit_events VALUES(1795629433619,4963,0,NULL);
INSERT INTO audit_events VALUES(1795629433623,4962,0,NULL);
INSERT INTO audit_events VALUES(1795629433639,4964,0,NULL);
INSERT INTO audit_events VALUES(1795629433639,4966,0,NULL);
INSERT INTO audit_events VALUES(1795629433643,4969,0,NULL);
INSERT INTO audit_events VALUES(1795629433655,4967,0,NULL);
INSERT INTO audit_events VALUES(1795629433655,4968,0,NULL);
INSERT INTO audit_events VALUES(1795629433659,4970,0,NULL);
INSERT INTO audit_events VALUES(1795629433659,4972,0,NULL);
INSERT INTO audit_events VALUES(1795629433659,4973,0,NULL);
INSERT INTO audit_events VALUES(1795629433659,4974,0,NULL);
INSERT INTO audit_events VALUES(1795629433687,4980,0,NULL);
INSERT INTO audit_events VALUES(1795629433691,4981,0,NULL);
INSERT INTO audit_events VALUES(1795629433739,4983,0,NULL);
INSERT INTO audit_events VALUES(1795629433755,4984,0,52);
INSERT INTO audit_events VALUES(1795629433763,4985,0,NULL);
INSERT INTO audit_events VALUES(1795629433783,4986,0,53);
INSERT INTO audit_events VALUES(1795629433803,4989,0,NULL);
INSERT INTO audit_events VALUES(1795629433811,4990,0,NULL);
INSERT INTO audit_events VALUES(1795629433815,4994,0,NULL);
INSERT INTO audit_events VALUES(1795629433815,5001,0,NULL);
INSERT INTO audit_events VALUES(1795629433819,5002,0,NULL);
INSERT INTO audit_events VALUES(1795629433819,5003,0,NULL);
INSERT INTO audit_events VALUES(1795629433827,5004,0,55);
INSERT INTO audit_events VALUES(1795629433843,5005,0,56);
INSERT INTO audit_events VALUES(1795629433843,5006,0,NULL);
INSERT INTO audit_events VALUES(1795629433847,5007,0,NULL);
INSERT INTO audit_events VALUES(1795629433851,5009,0,NULL);
INSERT INTO audit_events VALUES(1795629433851,5010,0,NULL);
INSERT INTO audit_events VALUES(1795629433851,5011,0,NULL);
INSERT INTO audit_events VALUES(1795629433867,5012,0,NULL);
INSERT INTO audit_events VALUES(1795629433891,5013,0,58);
INSERT INTO audit_events VALUES(1795629433923,5016,0,NULL);
INSERT INTO audit_events VALUES(1795629433923,5017,0,NULL);
INSERT INTO audit_events VALUES(1795629433923,5021,0,NULL);
INSERT INTO audit_events VALUES(1795629433923,5028,0,NULL);
INSERT INTO audit_events VALUES(1795629433927,5029,0,NULL);
INSERT INTO audit_events VALUES(1795629433927,5030,0,NULL);
INSERT INTO audit_events VALUES(1795629433947,5031,0,60);
INSERT INTO audit_events VALUES(1795629433979,5032,0,61);
INSERT INTO audit_events VALUES(1795629434003,5033,0,NULL);
INSERT INTO audit_events VALUES(1795629434027,5035,0,NULL);
INSERT INTO audit_events VALUES(1795629434027,5036,0,NULL);
INSERT INTO audit_events VALUES(1795629434027,5037,0,NULL);
INSERT INTO audit_events VALUES(1795629434039,5038,0,NULL);
INSERT INTO audit_events VALUES(1795629434059,5039,0,63);
INSERT INTO audit_events VALUES(1795629434115,5044,0,NULL);
INSERT INTO audit_events VALUES(1795629434115,5045,0,NULL);
INSERT INTO audit_events VALUES(1795629434115,5046,0,NULL);
INSERT INTO audit_events VALUES(1795629434115,5047,0,NULL);
INSERT INTO audit_events VALUES(1795629434115,5048,0,NULL);
INSERT INTO audit_events VALUES(1795629434127,5052,0,NULL);
INSERT INTO audit_events VALUES(1795629434135,5053,0,NULL);
INSERT INTO audit_events VALUES(1795629434135,5054,0,NULL);
INSERT INTO audit_events VALUES(1795629434143,5055,0,65);
INSERT INTO audit_events VALUES(1795629434151,5056,0,NULL);
INSERT INTO audit_events VALUES(1795629434167,5057,0,NULL);
INSERT INTO audit_events VALUES(1795629434167,5058,0,NULL);
INSERT INTO audit_events VALUES(1795629434167,5059,0,NULL);
INSERT INTO audit_events VALUES(1795629434167,5060,0,NULL);
INSERT INTO audit_events VALUES(1795629434167,5062,0,NULL);
INSERT INTO audit_events VALUES(1795629434167,5063,0,NULL);
INSERT INTO audit_events VALUES(1795629434167,5064,0,NULL);
INSERT INTO audit_events VALUES(1795629434175,5065,0,NULL);
INSERT INTO audit_events VALUES(1795629434203,5066,0,67);
INSERT INTO audit_events VALUES(1795629434255,5071,0,NULL);
INSERT INTO audit_events VALUES(1795629434255,5072,0,NULL);
INSERT INTO audit_events VALUES(1795629434255,5073,0,NULL);
INSERT INTO audit_events VALUES(1795629434255,5074,0,NULL);
INSERT INTO audit_events VALUES(1795629434255,5075,0,NULL);
INSERT INTO audit_events VALUES(1795629434255,5079,0,NULL);
INSERT INTO audit_events VALUES(1795629434275,5080,0,NULL);
INSERT INTO audit_events VALUES(1795629434275,5081,0,NULL);
INSERT INTO audit_events VALUES(1795629434291,5082,0,69);
INSERT INTO audit_events VALUES(1795629434291,5083,0,70);
INSERT INTO audit_events VALUES(1795629434291,5084,0,71);
INSERT INTO audit_events VALUES(1795629434291,5085,0,72);
INSERT INTO audit_events VALUES(1795629434343,5089,0,NULL);
INSERT INTO audit_events VALUES(1795629435351,5091,0,NULL);
INSERT INTO audit_events VALUES(1795629435355,5092,0,NULL);
INSERT INTO audit_events VALUES(1795629435355,5093,0,NULL);
INSERT INTO audit_events VALUES(1795629435355,5094,0,NULL);
INSERT INTO audit_events VALUES(1795629435355,5095,0,NULL);
INSERT INTO audit_events VALUES(1795629435355,5097,0,NULL);
INSERT INTO audit_events VALUES(1795629435355,5098,0,NULL);
INSERT INTO audit_events VALUES(1795629435363,5099,0,NULL);
INSERT INTO audit_events VALUES(1795629435363,5100,0,NULL);
INSERT INTO audit_events VALUES(1795629435379,5101,0,74);
INSERT INTO audit_events VALUES(1795629435527,5102,0,NULL);
INSERT INTO audit_events VALUES(1795629435535,5103,0,75);
INSERT INTO audit_events VALUES(1795629435543,5104,0,NULL);
INSERT INTO audit_events VALUES(1795629435551,5105,0,76);
INSERT INTO audit_events VALUES(1795629435711,5106,0,NULL);
INSERT INTO audit_events VALUES(1795629435723,5107,0,NULL);
INSERT INTO audit_events VALUES(1795629435723,5108,0,NULL);
INSERT INTO audit_events VALUES(1795629435723,5109,0,NULL);
INSERT INTO audit_events VALUES(1795629435723,5110,0,NULL);
INSERT INTO audit_events VALUES(1795629435723,5111,0,NULL);
INSERT INTO audit_events VALUES(1795629435735,5112,0,NULL);
INSERT INTO audit_events VALUES(1795629435803,5113,0,NULL);
INSERT INTO audit_events VALUES(1795629435811,5114,0,78);
INSERT INTO audit_events VALUES(1795629435815,5115,0,NULL);
INSERT INTO audit_events VALUES(1795629435827,5116,0,79);
INSERT INTO audit_events VALUES(1795629435975,5117,0,NULL);
INSERT INTO audit_events VALUES(1795629435975,5118,0,NULL);
INSERT INTO audit_events VALUES(1795629435975,5119,0,NULL);
INSERT INTO audit_events VALUES(1795629435995,5120,0,NULL);
INSERT INTO audit_events VALUES(1795629436003,5121,0,80);
INSERT INTO audit_events VALUES(1795629436119,5122,0,NULL);
INSERT INTO audit_events VALUES(1795629436131,5123,0,81);
INSERT INTO audit_events VALUES(1795629436143,5124,0,NULL);
INSERT INTO audit_events VALUES(1795629436159,5125,0,82);
INSERT INTO audit_events VALUES(1795629437171,5126,0,NULL);
INSERT INTO audit_events VALUES(1795629437183,5127,0,83);
INSERT INTO audit_events VALUES(1795629440001,9002,0,NULL);
CREATE TABLE process_data(
  process_id INTEGER PRIMARY KEY,
  node_id INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  ppid INTEGER,
  parent_process_id INTEGER,
  start_time INTEGER,
  end_time INTEGER,
  exit_code INTEGER,
  exe_id INTEGER,
  comm_id INTEGER,
  command_id INTEGER,
  cwd_id INTEGER,
  uid INTEGER,
  euid INTEGER,
  auid INTEGER,
  ses INTEGER,
  tty_id INTEGER,
  success INTEGER,
  flags INTEGER NOT NULL
, user_id INTEGER, euser_id INTEGER, login_user_id INTEGER, sha256_id INTEGER, md5_id INTEGER, hash_note_id INTEGER);
INSERT INTO process_data VALUES(1,0,13035,13005,NULL,NULL,1795629431583,0,1,2,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(2,0,13038,13005,NULL,NULL,1795629431603,0,1,2,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(3,0,13041,13005,NULL,NULL,1795629431627,0,1,2,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(4,0,13044,13005,NULL,1795629431635,1795629431687,0,1,2,1,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(5,0,13047,13005,NULL,1795629431707,1795629431723,0,1,2,2,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(6,0,13049,13005,NULL,1795629431731,1795629431739,0,4,5,3,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(7,0,13050,13005,NULL,1795629431747,1795629431759,0,6,7,4,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(8,0,13051,13005,NULL,1795629431771,1795629431779,0,4,5,5,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(9,0,13052,13005,NULL,NULL,1795629431791,0,4,5,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(10,0,13053,13005,NULL,1795629431799,1795629431807,0,4,5,6,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(11,0,13054,13005,NULL,NULL,1795629431827,0,4,5,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(12,0,13055,13005,NULL,1795629431835,1795629431843,0,4,5,7,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(13,0,13056,13005,NULL,1795629431859,1795629432055,0,8,9,8,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(14,0,13057,13056,13,1795629431999,1795629431999,127,8,9,9,3,0,0,0,16,NULL,0,2,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(15,0,13058,13005,NULL,1795629432063,1795629432079,0,4,5,10,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(16,0,13005,12612,NULL,NULL,NULL,NULL,10,11,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(17,0,13059,13005,16,1795629432087,1795629432095,0,13,14,11,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(18,0,13060,13005,16,1795629432103,1795629432339,0,8,9,12,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(19,0,13061,13060,18,1795629432259,1795629432287,127,8,9,13,3,0,0,0,16,NULL,0,2,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(20,0,13062,13005,16,1795629432355,1795629432359,0,15,16,14,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(21,0,13063,13005,16,1795629432371,1795629432375,0,4,5,15,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(22,0,13064,13005,16,1795629432387,1795629432595,0,8,9,16,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(23,0,13065,13064,22,1795629432531,1795629432539,0,4,5,17,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(24,0,13066,13005,16,1795629432607,1795629432615,0,4,5,18,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(25,0,13068,13067,NULL,1795629432635,1795629432643,0,17,18,19,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(26,0,13067,13005,16,NULL,1795629432651,0,10,11,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(27,0,13070,13069,NULL,1795629432667,1795629432675,3,17,18,20,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(28,0,13069,13005,16,NULL,1795629432683,0,10,11,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(29,0,13072,13071,NULL,1795629432695,1795629432711,139,17,18,21,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(30,0,13071,13005,16,NULL,1795629432711,0,10,11,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(31,0,13073,13005,16,1795629432727,1795629432871,0,8,9,22,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(32,0,13074,13005,16,1795629432883,1795629432891,0,4,5,23,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(33,0,13075,13005,16,1795629432899,1795629432907,0,20,21,24,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(34,0,13076,13005,16,1795629432919,1795629432927,0,23,24,25,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(35,0,13077,13005,16,1795629432943,1795629432959,0,13,14,26,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(36,0,13078,13005,16,1795629432971,1795629432979,0,26,27,27,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(37,0,13079,13005,16,1795629432987,1795629433003,0,28,29,28,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(38,0,13080,13005,16,1795629433011,1795629433019,0,30,31,29,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(39,0,13081,13005,16,1795629433039,1795629433055,0,33,34,30,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(40,0,13082,13005,16,1795629433063,1795629433067,0,30,31,31,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(41,0,13083,13005,16,1795629433079,1795629433091,0,37,38,32,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(42,0,13084,13005,16,1795629433103,1795629433115,0,40,41,33,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(43,0,13085,13005,16,1795629433123,1795629433135,0,15,16,34,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(44,0,13086,13005,16,1795629433143,1795629433267,0,8,9,35,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(45,0,13087,13005,16,1795629433271,1795629433279,0,4,5,36,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(46,0,13088,13005,16,1795629433291,1795629433479,0,8,9,37,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(47,0,13089,13005,16,1795629433483,1795629433491,0,4,5,38,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(48,0,13090,13005,16,1795629433495,1795629433739,0,8,9,39,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(49,0,13091,13090,48,NULL,1795629433639,0,8,9,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(50,0,13092,13090,48,NULL,1795629433655,0,8,9,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(51,0,13093,13090,48,NULL,1795629433687,0,8,9,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(52,0,13095,13005,16,1795629433755,1795629433763,0,4,5,40,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(53,0,13097,13096,NULL,1795629433783,1795629433851,0,57,58,41,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(54,0,13098,13097,53,NULL,NULL,NULL,57,58,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(55,0,13098,13097,53,1795629433827,1795629433847,0,17,18,42,3,65534,65534,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(56,0,13100,13098,55,1795629433843,1795629433843,0,4,5,43,3,65534,65534,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(57,0,13096,13005,16,NULL,1795629433867,0,10,11,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(58,0,13103,13102,NULL,1795629433891,1795629434027,0,57,58,44,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(59,0,13104,13103,58,NULL,NULL,NULL,57,58,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(60,0,13104,13103,58,1795629433947,NULL,NULL,10,11,45,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(61,0,13104,13103,58,1795629433979,1795629434003,0,4,5,46,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(62,0,13102,13005,16,NULL,1795629434039,0,10,11,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(63,0,13106,13105,NULL,1795629434059,1795629434167,0,80,81,47,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(64,0,13109,13106,63,NULL,NULL,NULL,80,81,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(65,0,13109,13106,63,1795629434143,1795629434151,0,4,5,48,3,65534,65534,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(66,0,13105,13005,16,NULL,1795629434175,0,10,11,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(67,0,13111,13110,NULL,1795629434203,1795629435363,1,80,81,49,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(68,0,13112,13111,67,NULL,NULL,NULL,80,81,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(69,0,13112,13111,67,1795629434291,NULL,NULL,80,81,50,3,65534,65534,0,16,NULL,0,2,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(70,0,13112,13111,67,1795629434291,NULL,NULL,80,81,50,3,65534,65534,0,16,NULL,0,2,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(71,0,13112,13111,67,1795629434291,NULL,NULL,80,81,50,3,65534,65534,0,16,NULL,0,2,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(72,0,13112,13111,67,1795629434291,1795629435351,1,57,58,51,3,65534,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(73,0,13110,13005,16,NULL,1795629435363,0,10,11,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(74,0,13113,13005,16,1795629435379,1795629435527,0,8,9,52,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(75,0,13114,13005,16,1795629435535,1795629435543,0,4,5,53,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(76,0,13115,13005,16,1795629435551,1795629435803,0,8,9,54,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(77,0,13116,13115,76,NULL,1795629435735,0,8,9,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(78,0,13117,13005,16,1795629435811,1795629435815,0,4,5,55,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(79,0,13118,13005,16,1795629435827,1795629435995,0,8,9,56,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(80,0,13119,13005,16,1795629436003,1795629436119,0,8,9,57,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(81,0,13120,13005,16,1795629436131,1795629436143,0,4,5,58,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(82,0,13121,13005,16,1795629436159,1795629437171,0,99,100,59,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(83,0,13122,13005,16,1795629437183,NULL,NULL,1,2,60,3,0,0,0,16,NULL,1,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO process_data VALUES(84,0,9000,1,NULL,NULL,NULL,NULL,101,102,NULL,NULL,0,0,0,16,NULL,NULL,1,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE file_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  operation INTEGER NOT NULL,
  path_id INTEGER,
  new_path_id INTEGER,
  success INTEGER NOT NULL,
  uid INTEGER,
  mode INTEGER,
  owner_uid INTEGER,
  owner_gid INTEGER
, user_id INTEGER);
INSERT INTO file_data VALUES(1,1795629432079,16,0,12,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(2,1795629432095,17,4,12,NULL,1,0,420,NULL,NULL,NULL);
INSERT INTO file_data VALUES(3,1795629432359,20,3,12,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(4,1795629432891,16,0,19,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(5,1795629432895,16,1,19,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(6,1795629432907,33,2,19,22,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(7,1795629432927,34,0,25,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(8,1795629432959,35,4,22,NULL,1,0,384,NULL,NULL,NULL);
INSERT INTO file_data VALUES(9,1795629432979,36,5,22,NULL,1,0,NULL,65534,65534,NULL);
INSERT INTO file_data VALUES(10,1795629433003,37,1,22,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(11,1795629433003,37,9,NULL,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(12,1795629433019,38,8,32,22,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(13,1795629433067,40,8,35,36,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(14,1795629433091,41,6,39,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(15,1795629433107,42,7,39,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(16,1795629433127,43,3,35,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(17,1795629433135,43,3,32,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(18,1795629433135,43,3,22,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(19,1795629433135,43,3,25,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(20,1795629433467,46,0,42,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(21,1795629433467,46,9,NULL,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(22,1795629433467,46,4,NULL,NULL,1,0,416,NULL,NULL,NULL);
INSERT INTO file_data VALUES(23,1795629433467,46,5,NULL,NULL,1,0,NULL,65534,65534,NULL);
INSERT INTO file_data VALUES(24,1795629433467,46,0,43,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(25,1795629433467,46,2,42,44,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(26,1795629433467,46,2,43,45,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(27,1795629433467,46,2,46,46,0,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(28,1795629433467,46,4,44,NULL,1,0,384,NULL,NULL,NULL);
INSERT INTO file_data VALUES(29,1795629433467,46,5,44,NULL,1,0,NULL,0,0,NULL);
INSERT INTO file_data VALUES(30,1795629433467,46,9,44,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(31,1795629433467,46,8,47,44,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(32,1795629433467,46,8,48,49,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(33,1795629433467,46,5,48,NULL,1,0,NULL,65534,65534,NULL);
INSERT INTO file_data VALUES(34,1795629433467,46,6,50,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(35,1795629433467,46,7,50,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(36,1795629433467,46,7,46,NULL,0,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(37,1795629433467,46,3,48,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(38,1795629433467,46,3,47,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(39,1795629433467,46,3,44,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(40,1795629433467,46,3,45,NULL,1,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(41,1795629433467,46,3,46,NULL,0,0,NULL,NULL,NULL,NULL);
INSERT INTO file_data VALUES(42,1795629433691,48,3,56,NULL,1,0,NULL,NULL,NULL,NULL);
CREATE TABLE network_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  direction INTEGER NOT NULL,
  protocol_id INTEGER,
  family_id INTEGER,
  local_address_id INTEGER,
  local_port INTEGER,
  remote_address_id INTEGER,
  remote_port INTEGER,
  success INTEGER NOT NULL,
  uid INTEGER,
  in_progress INTEGER NOT NULL
, user_id INTEGER);
INSERT INTO network_data VALUES(1,1795629433619,48,2,51,52,53,34769,NULL,NULL,1,0,0,NULL);
INSERT INTO network_data VALUES(2,1795629433623,49,0,NULL,52,NULL,NULL,53,34769,1,0,0,NULL);
INSERT INTO network_data VALUES(3,1795629433619,48,1,51,52,53,34769,53,43312,1,0,0,NULL);
INSERT INTO network_data VALUES(4,1795629433639,48,2,51,54,55,53747,NULL,NULL,1,0,0,NULL);
INSERT INTO network_data VALUES(5,1795629433655,50,0,NULL,54,NULL,NULL,55,53747,1,0,0,NULL);
INSERT INTO network_data VALUES(6,1795629433643,48,1,51,54,55,53747,55,35358,1,0,0,NULL);
INSERT INTO network_data VALUES(7,1795629433659,48,0,NULL,52,NULL,NULL,53,57123,0,0,0,NULL);
INSERT INTO network_data VALUES(8,1795629433659,48,2,51,52,53,34769,NULL,NULL,1,0,0,NULL);
INSERT INTO network_data VALUES(9,1795629433659,48,0,NULL,52,NULL,NULL,53,34769,0,0,1,NULL);
INSERT INTO network_data VALUES(10,1795629433659,48,1,51,52,53,34769,53,43328,1,0,0,NULL);
INSERT INTO network_data VALUES(11,1795629440001,84,0,103,52,NULL,NULL,104,53,1,0,0,NULL);
CREATE TABLE security_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  record_type_id INTEGER,
  user_id INTEGER,
  target_user_id INTEGER,
  result_id INTEGER,
  terminal_id INTEGER,
  address_id INTEGER,
  hostname_id INTEGER,
  detail_id INTEGER,
  success INTEGER NOT NULL,
  uid INTEGER
);
INSERT INTO security_data VALUES(1,1795629433803,53,0,59,60,61,62,NULL,NULL,NULL,63,1,0);
INSERT INTO security_data VALUES(2,1795629433811,53,1,64,60,61,62,NULL,NULL,NULL,65,1,0);
INSERT INTO security_data VALUES(3,1795629433815,53,6,66,60,61,62,NULL,NULL,NULL,67,1,0);
INSERT INTO security_data VALUES(4,1795629433815,53,4,68,60,61,62,NULL,NULL,NULL,69,1,0);
INSERT INTO security_data VALUES(5,1795629433819,54,9,70,60,71,62,NULL,NULL,NULL,72,1,0);
INSERT INTO security_data VALUES(6,1795629433819,54,9,70,71,71,62,NULL,NULL,NULL,73,1,65534);
INSERT INTO security_data VALUES(7,1795629433851,53,5,74,60,61,62,NULL,NULL,NULL,75,1,0);
INSERT INTO security_data VALUES(8,1795629433851,53,6,76,60,61,62,NULL,NULL,NULL,67,1,0);
INSERT INTO security_data VALUES(9,1795629433923,58,0,59,60,77,62,NULL,NULL,NULL,63,1,0);
INSERT INTO security_data VALUES(10,1795629433923,58,1,64,60,77,62,NULL,NULL,NULL,65,1,0);
INSERT INTO security_data VALUES(11,1795629433923,58,6,66,60,77,62,NULL,NULL,NULL,67,1,0);
INSERT INTO security_data VALUES(12,1795629433923,58,4,68,60,77,62,NULL,NULL,NULL,69,1,0);
INSERT INTO security_data VALUES(13,1795629433927,59,9,70,60,60,62,NULL,NULL,NULL,78,1,0);
INSERT INTO security_data VALUES(14,1795629433927,59,9,70,60,60,62,NULL,NULL,NULL,79,1,0);
INSERT INTO security_data VALUES(15,1795629434027,58,5,74,60,77,62,NULL,NULL,NULL,75,1,0);
INSERT INTO security_data VALUES(16,1795629434027,58,6,76,60,77,62,NULL,NULL,NULL,67,1,0);
INSERT INTO security_data VALUES(17,1795629434115,63,6,66,60,61,62,NULL,NULL,NULL,67,1,0);
INSERT INTO security_data VALUES(18,1795629434115,63,9,70,60,71,62,NULL,NULL,NULL,82,1,0);
INSERT INTO security_data VALUES(19,1795629434115,63,9,70,71,71,62,NULL,NULL,NULL,83,1,65534);
INSERT INTO security_data VALUES(20,1795629434115,63,9,70,60,60,62,NULL,NULL,NULL,84,1,0);
INSERT INTO security_data VALUES(21,1795629434115,63,9,70,60,60,62,NULL,NULL,NULL,85,1,0);
INSERT INTO security_data VALUES(22,1795629434127,63,4,68,60,61,62,NULL,NULL,NULL,86,1,0);
INSERT INTO security_data VALUES(23,1795629434135,64,9,70,60,71,62,NULL,NULL,NULL,72,1,0);
INSERT INTO security_data VALUES(24,1795629434135,64,9,70,71,71,62,NULL,NULL,NULL,73,1,65534);
INSERT INTO security_data VALUES(25,1795629434167,63,9,70,60,71,62,NULL,NULL,NULL,87,1,0);
INSERT INTO security_data VALUES(26,1795629434167,63,9,70,60,71,62,NULL,NULL,NULL,88,1,0);
INSERT INTO security_data VALUES(27,1795629434167,63,9,70,60,60,62,NULL,NULL,NULL,89,1,0);
INSERT INTO security_data VALUES(28,1795629434167,63,9,70,60,60,62,NULL,NULL,NULL,90,1,0);
INSERT INTO security_data VALUES(29,1795629434167,63,5,74,60,61,62,NULL,NULL,NULL,91,1,0);
INSERT INTO security_data VALUES(30,1795629434167,63,6,76,60,61,62,NULL,NULL,NULL,67,1,0);
INSERT INTO security_data VALUES(31,1795629434255,67,6,66,60,61,62,NULL,NULL,NULL,67,1,0);
INSERT INTO security_data VALUES(32,1795629434255,67,9,70,60,71,62,NULL,NULL,NULL,82,1,0);
INSERT INTO security_data VALUES(33,1795629434255,67,9,70,71,71,62,NULL,NULL,NULL,83,1,65534);
INSERT INTO security_data VALUES(34,1795629434255,67,9,70,60,60,62,NULL,NULL,NULL,84,1,0);
INSERT INTO security_data VALUES(35,1795629434255,67,9,70,60,60,62,NULL,NULL,NULL,85,1,0);
INSERT INTO security_data VALUES(36,1795629434255,67,4,68,60,61,62,NULL,NULL,NULL,86,1,0);
INSERT INTO security_data VALUES(37,1795629434275,68,9,70,60,71,62,NULL,NULL,NULL,72,1,0);
INSERT INTO security_data VALUES(38,1795629434275,68,9,70,71,71,62,NULL,NULL,NULL,73,1,65534);
INSERT INTO security_data VALUES(39,1795629434291,72,9,70,71,60,62,NULL,NULL,NULL,92,1,65534);
INSERT INTO security_data VALUES(40,1795629434343,72,0,59,71,77,93,NULL,NULL,NULL,94,0,65534);
INSERT INTO security_data VALUES(41,1795629435355,67,9,70,60,71,62,NULL,NULL,NULL,87,1,0);
INSERT INTO security_data VALUES(42,1795629435355,67,9,70,60,71,62,NULL,NULL,NULL,88,1,0);
INSERT INTO security_data VALUES(43,1795629435355,67,9,70,60,60,62,NULL,NULL,NULL,89,1,0);
INSERT INTO security_data VALUES(44,1795629435355,67,9,70,60,60,62,NULL,NULL,NULL,90,1,0);
INSERT INTO security_data VALUES(45,1795629435355,67,5,74,60,61,62,NULL,NULL,NULL,91,1,0);
INSERT INTO security_data VALUES(46,1795629435355,67,6,76,60,61,62,NULL,NULL,NULL,67,1,0);
INSERT INTO security_data VALUES(47,1795629435711,77,9,70,60,60,62,NULL,NULL,NULL,78,1,0);
INSERT INTO security_data VALUES(48,1795629435723,77,9,70,60,60,62,NULL,NULL,NULL,95,1,0);
INSERT INTO security_data VALUES(49,1795629435723,77,9,70,60,71,62,NULL,NULL,NULL,96,1,0);
INSERT INTO security_data VALUES(50,1795629435723,77,9,70,60,60,62,NULL,NULL,NULL,97,1,0);
INSERT INTO security_data VALUES(51,1795629435723,77,9,70,71,71,62,NULL,NULL,NULL,98,1,65534);
INSERT INTO security_data VALUES(52,1795629435723,77,9,70,71,60,93,NULL,NULL,NULL,79,0,65534);
CREATE TABLE module_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  operation INTEGER NOT NULL,
  module_id INTEGER,
  success INTEGER NOT NULL,
  uid INTEGER
, user_id INTEGER);
INSERT INTO module_data VALUES(1,1795629435975,79,0,NULL,0,0,NULL);
INSERT INTO module_data VALUES(2,1795629435975,79,0,NULL,0,0,NULL);
INSERT INTO module_data VALUES(3,1795629435975,79,1,NULL,0,0,NULL);
CREATE TABLE image_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  path_id INTEGER,
  sha256 TEXT,
  uid INTEGER
, user_id INTEGER);
CREATE TABLE dns_data(
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  process_id INTEGER NOT NULL,
  query TEXT,
  response TEXT,
  type TEXT,
  uid INTEGER
, user_id INTEGER);
CREATE TABLE run_data(
  run_id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  lines INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  records INTEGER NOT NULL DEFAULT 0,
  malformed INTEGER NOT NULL DEFAULT 0,
  truncated INTEGER NOT NULL DEFAULT 0,
  audit_events INTEGER NOT NULL DEFAULT 0,
  partial_events INTEGER NOT NULL DEFAULT 0,
  ignored_events INTEGER NOT NULL DEFAULT 0,
  process_starts INTEGER NOT NULL DEFAULT 0,
  process_ends INTEGER NOT NULL DEFAULT 0,
  file_events INTEGER NOT NULL DEFAULT 0,
  network_events INTEGER NOT NULL DEFAULT 0,
  security_events INTEGER NOT NULL DEFAULT 0,
  module_events INTEGER NOT NULL DEFAULT 0,
  placeholder_processes INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  kernel_lost INTEGER NOT NULL DEFAULT 0,
  dropped_backlog INTEGER NOT NULL DEFAULT 0,
  dropped_queue_full INTEGER NOT NULL DEFAULT 0,
  dropped_other INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
INSERT INTO run_data VALUES(1,'replay:small.log',1796447843406,1796447843432,1278,263110,1278,0,0,334,0,92,62,73,42,11,52,3,22,0,0,0,0,0,NULL);
CREATE VIEW security_events AS SELECT
  e.time, strftime('%Y-%m-%dT%H:%M:%fZ', e.time / 1000.0, 'unixepoch') AS time_utc,
  e.process_id, p.pid, (SELECT value FROM strings WHERE id = p.exe_id) AS exe,
  CASE e.kind WHEN 0 THEN 'authentication' WHEN 1 THEN 'account' WHEN 2 THEN 'login'
    WHEN 3 THEN 'logout' WHEN 4 THEN 'session_start' WHEN 5 THEN 'session_end'
    WHEN 6 THEN 'credential' WHEN 7 THEN 'command' WHEN 8 THEN 'account_change'
    WHEN 9 THEN 'privilege_change' END AS kind,
  (SELECT value FROM strings WHERE id = e.user_id) AS user,
  (SELECT value FROM strings WHERE id = e.target_user_id) AS target_user,
  (SELECT value FROM strings WHERE id = e.result_id) AS result,
  (SELECT value FROM strings WHERE id = e.terminal_id) AS terminal,
  (SELECT value FROM strings WHERE id = e.address_id) AS address,
  (SELECT value FROM strings WHERE id = e.detail_id) AS detail,
  (SELECT value FROM strings WHERE id = e.record_type_id) AS record_type,
  (SELECT value FROM strings WHERE id = e.hostname_id) AS hostname,
  e.success, e.uid
FROM security_data e JOIN process_data p ON p.process_id = e.process_id;
CREATE VIEW runs AS SELECT
  run_id, source,
  start_time, strftime('%Y-%m-%dT%H:%M:%fZ', start_time / 1000.0, 'unixepoch') AS start_time_utc,
  end_time, strftime('%Y-%m-%dT%H:%M:%fZ', end_time / 1000.0, 'unixepoch') AS end_time_utc,
  lines, bytes, records, malformed, truncated, audit_events, partial_events, ignored_events,
  process_starts + process_ends + file_events + network_events + security_events
    + module_events AS events_stored,
  process_starts, process_ends, file_events, network_events, security_events, module_events,
  placeholder_processes, duplicates,
  kernel_lost, dropped_backlog, dropped_queue_full, dropped_other,
  kernel_lost + dropped_backlog + dropped_queue_full + dropped_other AS events_lost,
  error
FROM run_data;
CREATE VIEW processes AS SELECT
  p.process_id, p.pid, p.ppid, p.parent_process_id,
  p.start_time, strftime('%Y-%m-%dT%H:%M:%fZ', p.start_time / 1000.0, 'unixepoch') AS start_time_utc,
  p.end_time, strftime('%Y-%m-%dT%H:%M:%fZ', p.end_time / 1000.0, 'unixepoch') AS end_time_utc,
  p.exit_code,
  (SELECT value FROM strings WHERE id = p.exe_id) AS exe,
  c.cmdline, c.argv,
  (SELECT value FROM strings WHERE id = p.cwd_id) AS cwd,
  p.uid, (SELECT value FROM strings WHERE id = p.user_id) AS user,
  p.euid, (SELECT value FROM strings WHERE id = p.euser_id) AS euser,
  p.auid, (SELECT value FROM strings WHERE id = p.login_user_id) AS login_user,
  p.ses AS session,
  (SELECT value FROM strings WHERE id = p.tty_id) AS tty,
  (SELECT value FROM strings WHERE id = p.sha256_id) AS sha256,
  (SELECT value FROM strings WHERE id = p.md5_id) AS md5,
  (SELECT value FROM strings WHERE id = p.hash_note_id) AS hash_note,
  p.success,
  (SELECT value FROM strings WHERE id = p.comm_id) AS comm,
  (SELECT value FROM strings WHERE id = p.node_id) AS node,
  (p.flags & 1) AS placeholder,
  ((p.flags & 2) >> 1) AS argv_truncated
FROM process_data p LEFT JOIN commands c ON c.id = p.command_id;
CREATE VIEW file_events AS SELECT
  e.time, strftime('%Y-%m-%dT%H:%M:%fZ', e.time / 1000.0, 'unixepoch') AS time_utc,
  e.process_id, p.pid, (SELECT value FROM strings WHERE id = p.exe_id) AS exe,
  (SELECT value FROM strings WHERE id = e.user_id) AS user,
  CASE e.operation WHEN 0 THEN 'create' WHEN 1 THEN 'write' WHEN 2 THEN 'rename'
    WHEN 3 THEN 'delete' WHEN 4 THEN 'chmod' WHEN 5 THEN 'chown' WHEN 6 THEN 'mkdir'
    WHEN 7 THEN 'rmdir' WHEN 8 THEN 'link' WHEN 9 THEN 'truncate' END AS operation,
  (SELECT value FROM strings WHERE id = e.path_id) AS path,
  (SELECT value FROM strings WHERE id = e.new_path_id) AS new_path,
  e.success, e.uid, e.mode, e.owner_uid, e.owner_gid
FROM file_data e JOIN process_data p ON p.process_id = e.process_id;
CREATE VIEW network_events AS SELECT
  e.time, strftime('%Y-%m-%dT%H:%M:%fZ', e.time / 1000.0, 'unixepoch') AS time_utc,
  e.process_id, p.pid, (SELECT value FROM strings WHERE id = p.exe_id) AS exe,
  (SELECT value FROM strings WHERE id = e.user_id) AS user,
  CASE e.direction WHEN 0 THEN 'outbound' WHEN 1 THEN 'inbound' WHEN 2 THEN 'listen' END
    AS direction,
  (SELECT value FROM strings WHERE id = e.protocol_id) AS protocol,
  (SELECT value FROM strings WHERE id = e.family_id) AS family,
  (SELECT value FROM strings WHERE id = e.local_address_id) AS local_address, e.local_port,
  (SELECT value FROM strings WHERE id = e.remote_address_id) AS remote_address, e.remote_port,
  e.success, e.uid, e.in_progress
FROM network_data e JOIN process_data p ON p.process_id = e.process_id;
CREATE VIEW module_events AS SELECT
  e.time, strftime('%Y-%m-%dT%H:%M:%fZ', e.time / 1000.0, 'unixepoch') AS time_utc,
  e.process_id, p.pid, (SELECT value FROM strings WHERE id = p.exe_id) AS exe,
  (SELECT value FROM strings WHERE id = e.user_id) AS user,
  CASE e.operation WHEN 0 THEN 'load' WHEN 1 THEN 'unload' END AS operation,
  (SELECT value FROM strings WHERE id = e.module_id) AS module,
  e.success, e.uid
FROM module_data e JOIN process_data p ON p.process_id = e.process_id;
CREATE VIEW image_events AS SELECT
  e.time, strftime('%Y-%m-%dT%H:%M:%fZ', e.time / 1000.0, 'unixepoch') AS time_utc,
  e.process_id, p.pid, (SELECT value FROM strings WHERE id = p.exe_id) AS exe,
  (SELECT value FROM strings WHERE id = e.user_id) AS user,
  (SELECT value FROM strings WHERE id = e.path_id) AS path, e.sha256, e.uid
FROM image_data e JOIN process_data p ON p.process_id = e.process_id;
CREATE VIEW dns_events AS SELECT
  e.time, strftime('%Y-%m-%dT%H:%M:%fZ', e.time / 1000.0, 'unixepoch') AS time_utc,
  e.process_id, p.pid, (SELECT value FROM strings WHERE id = p.exe_id) AS exe,
  (SELECT value FROM strings WHERE id = e.user_id) AS user,
  e.query, e.response, e.type, e.uid
FROM dns_data e JOIN process_data p ON p.process_id = e.process_id;
COMMIT;
PRAGMA user_version=2;
