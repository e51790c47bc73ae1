// long unha_clone3_vm(struct unha_clone_args *args, size_t size,
//                     int (*fn)(void *), void *arg)
//
// clone3(2) for a child that shares our memory (CLONE_VM): the kernel
// starts it on args->stack, where no C frame of ours exists, so it cannot
// return from a libc syscall wrapper; it calls fn(arg) and exits with its
// result instead. syscall preserves every register but rax, rcx and r11,
// so fn and arg reach the child in r8 and r9. Returns the child's pid or
// -errno, in the parent.
	.text
	.globl	unha_clone3_vm
	.type	unha_clone3_vm, @function
unha_clone3_vm:
	movq	%rdx, %r8
	movq	%rcx, %r9
	movl	$435, %eax	// __NR_clone3
	syscall
	testq	%rax, %rax
	jnz	1f
	// The child: rsp is the top of its stack (16-byte aligned); the
	// call leaves it as a function entry expects.
	xorl	%ebp, %ebp
	movq	%r9, %rdi
	call	*%r8
	movl	%eax, %edi
	movl	$231, %eax	// __NR_exit_group
	syscall
	hlt
1:
	ret
	.size	unha_clone3_vm, .-unha_clone3_vm
	.section .note.GNU-stack,"",@progbits
